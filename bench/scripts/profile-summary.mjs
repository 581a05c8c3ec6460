// Summarises a V8 CPU profile (`npm run bench -- --profile` writes them to bench/profiles/):
// busy samples per second (to find a phase), the share of busy time per part of the
// publish path, and the functions with the most self time.
//
//   node bench/scripts/profile-summary.mjs FILE.cpuprofile [fromSec toSec]
//
// Each busy sample goes to the part of the first frame, from the leaf up, that a rule
// names (so a socket write made during the fan-out counts as a socket write).
import { readFileSync } from 'node:fs';

const [file, fromArg, toArg] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: node bench/scripts/profile-summary.mjs FILE.cpuprofile [fromSec toSec]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** Parts of the work, matched against `function@file` of each frame. */
const RULES = [
  ['garbage collection', /^\(garbage collector\)/],
  [
    'socket writes',
    /^(writeBuffer|writev|writeUtf8String|writeLatin1String|writeGeneric|writevGeneric)@|^sendBytes@.*websocket|^_write@|^writeOrBuffer@/,
  ],
  ['history append (SQLite)', /@.*(sqlite-history|transaction)\.js|^sqliteTransaction@/],
  [
    'frame decode and validation',
    /^(decode|parseCommand|parseHotCommand|safeParse|jsonDepthExceeds|parseName)@|@.*(valibot|hot-commands|json-depth)|^~run@.*index\.mjs/,
  ],
  ['capability match', /^(allows|match\w*)@.*capabilit|@.*capabilities\.js/],
  ['rate limiter', /@.*rate-bucket\.js/],
  ['fan-out encode', /^(encode|join|pubFrame|frameFor|encodePubFrame|utf8|batch)@|@.*shared-frames?\.js/],
  ['reply / ack', /^(reply|#replyResult|#replyFailure)@.*session\.js/],
  ['session queue and flush', /@.*(outbox|flush-scheduler)\.js|^(#queue|flush|sendShared|send|#write)@.*session\.js/],
  [
    'fan-out (channel hub, broker)',
    /@.*(channel-hub|local-broker|metered-broker|publish-service|channel-commands)\.js/,
  ],
  ['WebSocket receive (ws)', /@.*(receiver|websocket)\.js/],
  ['connect and auth', /@.*(connect-commands|hmac-jwt|token-verifier|server-admission|admission)\.js/],
];

let t = profile.startTime;
const from = fromArg === undefined ? -Infinity : profile.startTime + Number(fromArg) * 1e6;
const to = toArg === undefined ? Infinity : profile.startTime + Number(toArg) * 1e6;
const perSecond = new Map();
const parts = new Map();
const self = new Map();
let busy = 0;
let idle = 0;
const frameName = (n) =>
  `${n.callFrame.functionName || '(anonymous)'}@${n.callFrame.url.split('/').slice(-2).join('/')}`;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i];
  const leaf = byId.get(profile.samples[i]);
  const second = Math.floor((t - profile.startTime) / 1e6);
  const row = perSecond.get(second) ?? { busy: 0, all: 0 };
  row.all++;
  perSecond.set(second, row);
  if (leaf.callFrame.functionName === '(idle)') {
    if (t >= from && t <= to) idle++;
    continue;
  }
  row.busy++;
  if (t < from || t > to) continue;
  busy++;
  const key = `${frameName(leaf)}:${leaf.callFrame.lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + 1);
  let part = 'other';
  search: for (let id = profile.samples[i]; id !== undefined; id = parent.get(id)) {
    const name = frameName(byId.get(id));
    for (const [label, re] of RULES) {
      if (re.test(name)) {
        part = label;
        break search;
      }
    }
  }
  parts.set(part, (parts.get(part) ?? 0) + 1);
}
const pct = (n) => `${((100 * n) / Math.max(1, busy)).toFixed(1)}%`.padStart(6);
const out = [];
out.push(`busy samples per second: ${[...perSecond].map(([s, r]) => `${s}:${r.busy}/${r.all}`).join(' ')}`);
out.push(`window: ${busy} busy and ${idle} idle samples`, '', 'share of busy samples:');
for (const [label, n] of [...parts].sort((a, b) => b[1] - a[1])) out.push(`${pct(n)}  ${label}`);
out.push('', 'top self time:');
for (const [k, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) out.push(`${pct(n)}  ${k}`);
process.stdout.write(`${out.join('\n')}\n`);
