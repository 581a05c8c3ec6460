import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TARGETS, type Target } from './clients/bench-conn.js';
import type { RunOptions } from './harness.js';
import { combineRuns, machine, type PhaseResult, phaseTable } from './results.js';
import { type BrokerAckRow, brokerAckTable, runBrokerAck } from './scenarios/broker-ack.js';
import { type BrokerShardsRow, brokerShardsTable, runBrokerShards } from './scenarios/broker-shards.js';
import { runConnect } from './scenarios/connect.js';
import { type ConsoleBrowserResult, consoleBrowserTable, runConsoleBrowser } from './scenarios/console-browser.js';
import { type ConsoleImpact, consoleImpactTable, runConsoleImpact } from './scenarios/console-impact.js';
import { type ConsoleRow, consoleTable, runConsole } from './scenarios/console-pages.js';
import { runDocs } from './scenarios/docs.js';
import { runFanout } from './scenarios/fanout.js';
import { runStorm } from './scenarios/reconnect-storm.js';
import { runRooms } from './scenarios/rooms.js';
import { runWebhook, type WebhookRow, webhookTables } from './scenarios/webhook.js';

const SCENARIOS = [
  'fanout',
  'rooms',
  'docs',
  'connect',
  'reconnect-storm',
  'broker-ack',
  'broker',
  'webhook',
  'console',
  'console-impact',
  'console-browser',
] as const;

const USAGE = `Usage: npm run bench -- [options]
  --scenario NAME      ${SCENARIOS.join(' | ')} | all (default all)
  --subscribers N      fan-out / storm / connect / webhook size (default: fan-out 1000, 5000 and 10000;
                       connect 15000; webhook 200; others 5000)
  --publications N     burst publications in fan-out and webhook (default 100 and 1000)
  --rate N             paced publications per second in fan-out and webhook (default 10 and 200)
  --seconds N          paced fan-out, rooms and webhook duration (default 5, 10 and 10)
  --rooms LIST         rooms in the rooms scenario, comma-separated sizes (default 2000,400; 5 members each)
  --missed N           publications missed per client in the storm (default 100)
  --clients N          document clients (default 500), --docs N documents (default 100)
  --doc-rate N         paced document mutations per second in total (default 1000)
  --window N           document mutations in flight per client in the burst phase (default 4)
  --ack-publications N broker-ack: publications per run and setting (default 5000)
  --in-flight N        broker-ack: publishes in flight (default 32); needs redis-server on the PATH
  --shards LIST        broker: Redis Cluster shard counts (default 1,2,3), --nodes N publishing node processes
                       (default 2), --broker-channels N (default 96), --in-flight per node (default 32), --seconds (default 5);
                       needs redis-server on the PATH
                       webhook: one channel without, then with a publication webhook to a receiver
                       on 127.0.0.1 (Syncline JSON client only; --targets does not apply)
  --channels N         console: active channels and stored documents (default 10000), --requests N per route (default 100)
  --rounds N           console-impact: pairs of runs without and with one open console (default 1); uses
                       --subscribers for fan-out (default 1000), --connections N for connect (default 5000),
                       --seconds (default 5), --rate (default 10), --publications (default 100)
  --loads N            console-browser: loads of each console page in Chromium, cold and warm (default 5), on a
                       server with 100 of each first (the run's baseline), then with
                       --connections N idle connections, each on its own channel (default 10000) and --docs N
                       stored documents (default 10000); needs /usr/bin/chromium (or CHROMIUM_PATH)
  --targets LIST       comma-separated: ${TARGETS.join(',')} (default all; syncline-msgpack,
                       the same server with MessagePack clients, only in fanout, rooms and docs unless listed)
  --generators N       load generator processes (default: 1 per 2,500 connections, at most 3)
  --repeat N           run every scenario N times (targets take turns) and report medians (default 1)
  --profile            write a --cpu-prof profile of every server process to bench/profiles
  --out FILE           markdown results file (default bench/results/latest.md; JSON beside it)
`;

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'all' },
    shards: { type: 'string' },
    'broker-channels': { type: 'string' },
    nodes: { type: 'string' },
    subscribers: { type: 'string' },
    publications: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    rooms: { type: 'string', default: '2000,400' },
    missed: { type: 'string', default: '100' },
    clients: { type: 'string' },
    docs: { type: 'string' },
    'doc-rate': { type: 'string' },
    window: { type: 'string' },
    'ack-publications': { type: 'string', default: '5000' },
    'in-flight': { type: 'string', default: '32' },
    channels: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '1' },
    loads: { type: 'string', default: '5' },
    connections: { type: 'string' },
    targets: { type: 'string' },
    generators: { type: 'string', default: '0' },
    profile: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '1' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const num = (s: string | undefined, fallback: number): number => {
  if (s === undefined) return fallback;
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0) throw new Error(`not a number: ${s}`);
  return n;
};

const benchDir = fileURLToPath(new URL('..', import.meta.url));
const targets = (values.targets ?? TARGETS.join(',')).split(',').map((t) => {
  if (!(TARGETS as readonly string[]).includes(t)) throw new Error(`unknown target ${t}`);
  return t as Target;
});
const scenarios = values.scenario === 'all' ? [...SCENARIOS] : values.scenario.split(',');
for (const s of scenarios) if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown scenario ${s}`);
const profileDir = values.profile ? `${benchDir}profiles` : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });
const options: RunOptions = {
  targets,
  profileDir,
  generators: num(values.generators, 0),
  log: (line) => process.stderr.write(`[bench] ${line}\n`),
};
// Connections and reconnect storms compare the JSON client with the peers unless MessagePack is asked for.
const connectOptions: RunOptions =
  values.targets === undefined ? { ...options, targets: targets.filter((t) => t !== 'syncline-msgpack') } : options;
const subscribers = values.subscribers === undefined ? undefined : num(values.subscribers, 0);

const started = Date.now();
const results: PhaseResult[] = [];
const tables: string[] = [];
const repeat = Math.max(1, Math.floor(num(values.repeat, 1)));
const runs: PhaseResult[] = [];
const brokerAck: BrokerAckRow[] = [];
const brokerShards: BrokerShardsRow[] = [];
const consolePages: ConsoleRow[] = [];
const webhook: WebhookRow[] = [];
const webhookRuns: WebhookRow[] = [];
const consoleImpact: ConsoleImpact[] = [];
const consoleBrowser: ConsoleBrowserResult[] = [];
/** Runs a scenario `repeat` times (each run has every target take its turn) and prints its tables. */
const add = async (run: () => Promise<PhaseResult[]>): Promise<void> => {
  const rows: PhaseResult[] = [];
  for (let i = 0; i < repeat; i++) {
    if (repeat > 1) options.log(`run ${i + 1} of ${repeat}`);
    rows.push(...(await run()));
  }
  runs.push(...rows);
  const byPhase = new Map<string, Map<string, PhaseResult[]>>();
  for (const r of rows) {
    const key = `${r.scenario}|${r.params}`;
    const phase = byPhase.get(key) ?? new Map<string, PhaseResult[]>();
    phase.set(r.target, [...(phase.get(r.target) ?? []), r]);
    byPhase.set(key, phase);
  }
  for (const phase of byPhase.values()) {
    const combined = [...phase.values()].map(combineRuns);
    results.push(...combined);
    const t = phaseTable(combined);
    tables.push(t);
    process.stdout.write(`\n${t}\n`);
  }
};

for (const s of scenarios) {
  if (s === 'fanout') {
    for (const n of subscribers === undefined ? [1000, 5000, 10000] : [subscribers]) {
      await add(() =>
        runFanout(
          {
            subscribers: n,
            burst: num(values.publications, 100),
            ratePerSec: num(values.rate, 10),
            seconds: num(values.seconds, 5),
            window: 64,
          },
          options,
        ),
      );
    }
  } else if (s === 'rooms') {
    for (const size of values.rooms.split(',')) {
      await add(() =>
        runRooms({ rooms: num(size, 2000), members: 5, intervalMs: 2000, seconds: num(values.seconds, 10) }, options),
      );
    }
  } else if (s === 'docs') {
    await add(() =>
      runDocs(
        {
          clients: num(values.clients, 500),
          docs: num(values.docs, 100),
          ratePerSec: num(values['doc-rate'], 1000),
          seconds: num(values.seconds, 5),
          window: num(values.window, 4),
        },
        options,
      ),
    );
  } else if (s === 'connect') {
    await add(() => runConnect(subscribers ?? 15_000, connectOptions));
  } else if (s === 'broker-ack') {
    const o = {
      publications: num(values['ack-publications'], 5000),
      inFlight: Math.max(1, num(values['in-flight'], 32)),
      repeat,
      log: options.log,
    };
    const rows = await runBrokerAck(o);
    brokerAck.push(...rows);
    const t = brokerAckTable(rows, o);
    tables.push(t);
    process.stdout.write(`\n${t}\n`);
  } else if (s === 'broker') {
    const o = {
      shards: (values.shards ?? '1,2,3').split(',').map((x) => Math.max(1, num(x, 1))),
      nodes: Math.max(1, num(values.nodes, 2)),
      channels: Math.max(1, num(values['broker-channels'], 96)),
      inFlight: Math.max(1, num(values['in-flight'], 32)),
      seconds: num(values.seconds, 5),
      repeat,
      log: options.log,
    };
    const rows = await runBrokerShards(o);
    brokerShards.push(...rows);
    const t = brokerShardsTable(rows, o);
    tables.push(t);
    process.stdout.write(`\n${t}\n`);
  } else if (s === 'webhook') {
    const o = {
      subscribers: subscribers ?? 200,
      ratePerSec: num(values.rate, 200),
      seconds: num(values.seconds, 10),
      burst: num(values.publications, 1000),
      window: 64,
      repeat,
    };
    const { rows, runs: each } = await runWebhook(o, options);
    webhook.push(...rows);
    webhookRuns.push(...each);
    for (const t of webhookTables(rows, o)) {
      tables.push(t);
      process.stdout.write(`\n${t}\n`);
    }
  } else if (s === 'console') {
    const o = { size: num(values.channels, 10_000), requests: Math.max(1, num(values.requests, 100)) };
    const rows = await runConsole(o, options);
    consolePages.push(...rows);
    const t = consoleTable(rows, o);
    tables.push(t);
    process.stdout.write(`\n${t}\n`);
  } else if (s === 'console-impact') {
    const o = {
      connections: num(values.connections, 5000),
      subscribers: subscribers ?? 1000,
      ratePerSec: num(values.rate, 10),
      seconds: num(values.seconds, 5),
      burst: num(values.publications, 100),
      rounds: Math.max(1, Math.floor(num(values.rounds, 1))),
    };
    const r = await runConsoleImpact(o, options);
    consoleImpact.push(r);
    const t = consoleImpactTable(r, o);
    tables.push(t);
    process.stdout.write(`\n${t}\n`);
  } else if (s === 'console-browser') {
    const o = {
      connections: num(values.connections, 10_000),
      docs: num(values.docs, 10_000),
      loads: Math.max(1, Math.floor(num(values.loads, 5))),
    };
    const r = await runConsoleBrowser(o, options);
    consoleBrowser.push(r);
    const t = consoleBrowserTable(r, o);
    tables.push(t);
    process.stdout.write(`\n${t}\n`);
  } else if (s === 'reconnect-storm') {
    await add(() => runStorm({ subscribers: subscribers ?? 5000, missed: num(values.missed, 100) }, connectOptions));
  }
}

const header = [
  '# Benchmark results',
  '',
  `Machine: ${machine()}. Run of ${new Date(started).toISOString()}, ${Math.round((Date.now() - started) / 1000)} s.`,
  'Each table compares the targets in the same run, one after the other, on the same machine' +
    (repeat > 1
      ? `; every scenario ran ${repeat} times with the targets taking turns, and each number is the median of the runs (losses and duplicates are summed).`
      : '.'),
  '',
].join('\n');
const markdown = `${header}\n${tables.join('\n\n')}\n`;
const out = values.out ?? `${benchDir}results/latest.md`;
mkdirSync(fileURLToPath(new URL('.', `file://${out}`)), { recursive: true });
writeFileSync(out, markdown);
writeFileSync(
  out.replace(/\.md$/, '.json'),
  `${JSON.stringify({ machine: machine(), started: new Date(started).toISOString(), repeat, results, runs, brokerAck, brokerShards, webhook, webhookRuns, consolePages, consoleImpact, consoleBrowser }, null, 2)}\n`,
);
process.stderr.write(`[bench] wrote ${out}\n`);
const bad = [
  ...results.filter((r) => !r.exactlyOnce).map((r) => `${r.scenario}/${r.target}`),
  ...webhook.filter((r) => !r.complete).map((r) => `webhook ${r.phase}/${r.mode}`),
  ...consoleImpact.flatMap((c) =>
    c.runs.filter((r) => !r.exactlyOnce).map((r) => `console-impact ${r.scenario} (console: ${r.extra.console})`),
  ),
];
if (bad.length > 0) {
  process.stderr.write(`[bench] exactly-once FAILED in: ${bad.join(', ')}\n`);
  process.exitCode = 1;
}
