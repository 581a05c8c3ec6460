// CPU time of the embedded history's append per publication, by publications per commit:
// `SqliteHistory.appendBatch` over 400 channels in a SQLite file (WAL), batch sizes
// interleaved over five rounds. Build first (`npm run build`).
//
//   node bench/scripts/append-batch-loop.mjs [publicationsPerRound]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, SqliteHistory } from '@syncline/server';

const CHANNELS = 400;
const BATCHES = [1, 2, 3, 5];
const ROUNDS = 5;
const perRound = Number(process.argv[2] ?? 6_000);
const dir = mkdtempSync(join(tmpdir(), 'syncline-append-'));
const db = openDatabase(join(dir, 'history.db'));
const history = new SqliteHistory(db);
const options = { size: 1_000, ttlMs: 600_000 };
let seq = 0;

/** Appends `total` publications in batches of `batch`; returns CPU µs per publication. */
function run(batch, total) {
  const start = process.cpuUsage();
  for (let i = 0; i < total; i += batch) {
    const inputs = [];
    for (let j = 0; j < batch; j++) {
      seq++;
      const data = { from: 'u', n: seq, t: Date.now(), pad: 'x'.repeat(60) };
      inputs.push({ channel: `bench:room-${seq % CHANNELS}`, data, user: 'u', key: `u:${seq}`, history: options });
    }
    history.appendBatch(inputs, Date.now());
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / total;
}

// Warm up, then interleave the batch sizes so each round sees the same machine and table size.
for (const batch of BATCHES) run(batch, 2_000);
const results = new Map(BATCHES.map((b) => [b, []]));
for (let r = 0; r < ROUNDS; r++) for (const batch of BATCHES) results.get(batch).push(run(batch, perRound));
for (const [batch, list] of results) {
  const sorted = [...list].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  process.stdout.write(
    `${batch} per commit: median ${median.toFixed(1)} µs/publication (rounds ${list.map((v) => v.toFixed(1)).join(', ')})\n`,
  );
}
db.close();
rmSync(dir, { recursive: true, force: true });
