// CPU per publication of the embedded history appending three publications a turn over 400
// channels (a SQLite file with its WAL checkpoint thread and the publication log), five rounds.
//   node bench/scripts/append-turn-loop.mjs   (build first)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, SqliteHistory } from '@syncline/server';
import { WalCheckpointer } from '../../packages/server/dist/storage/wal-checkpointer.js';

const CHANNELS = 400;
const dir = mkdtempSync(join(tmpdir(), 'syncline-append-'));
const file = join(dir, 'history.db');
const db = openDatabase(file);
const cp = new WalCheckpointer(db, file, { warn() {}, error() {}, info() {}, debug() {} });
const history = new SqliteHistory(db, { logFile: `${file}-publog` });
const options = { size: 1_000, ttlMs: 600_000 };
let seq = 0;
async function run(batch, total) {
  const start = process.cpuUsage();
  for (let i = 0; i < total; i += batch) {
    const inputs = [];
    for (let j = 0; j < batch; j++) {
      seq++;
      inputs.push({
        channel: `bench:room-${seq % CHANNELS}`,
        data: { from: 'u', n: seq, t: Date.now(), pad: 'x'.repeat(60) },
        user: 'u',
        key: `u:${seq}`,
        history: options,
      });
    }
    history.appendBatch(inputs, Date.now());
    if (i % 30 === 0) await new Promise((r) => setTimeout(r, 1));
    else await new Promise((r) => setImmediate(r));
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / total;
}
await run(3, 3000);
const res = [];
for (let r = 0; r < 5; r++) res.push(await run(3, 6000));
console.log(res.map((v) => v.toFixed(1)).join(', '));
history.close?.();
await cp.stop();
db.close();
rmSync(dir, { recursive: true, force: true });
