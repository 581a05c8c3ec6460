// The server's CPU per operation without the two cores' contention: the
// benchmark's own servers and clients, one operation at a time, so that the
// server and this process never run at once.
//
// - `--shape rooms`: one publication at a time in rooms of `--members`; each
//   goes out, reaches its room and is acknowledged before the next is sent
//   (the server sees one publication per event-loop turn, as in the paced
//   rooms scenario). Reported per publication.
// - `--shape fanout`: one channel of `--subscribers`, published to by one
//   more connection; with `--window 1` each publication reaches every
//   subscriber before the next (the paced fan-out, one publication per
//   event-loop turn), with `--window W` W publications are in flight at a
//   time and the round ends when all are delivered (the burst). Reported per
//   delivery.
// - `--shape connect`: one connection at a time (the handshake connect for
//   Syncline), each open before the next; closed after the round, unmeasured.
//   Reported per connection.
//
// The server's CPU time comes from its own process (the benchmark's
// `server-main`), marked before and read after each round; the servers take
// turns round by round (each round started by the next one, so that each
// takes every place in the order), and ratios are taken round by round
// before their median, so that the machine's drift cancels out.
//
//   npm run build -w @syncline/bench
//   node bench/scripts/serial-cpu.mjs [--shape rooms|fanout|connect] [--rooms 400] [--members 5]
//        [--subscribers 1000] [--window 1] [--ops 2000] [--rounds 15] [--targets syncline,ws] [--profile-dir DIR]
//
// A target is `syncline`, `syncline-msgpack` (its clients speak MessagePack) or `ws`, optionally followed by `@PATH` (another
// build's `bench/dist/server-main.js`, to compare two versions of the code)
// and `+NAME=VALUE` (an environment variable of that server). Bounded: every
// wait has a timeout and the servers are stopped at the end.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const dist = (p) => fileURLToPath(new URL(`../dist/${p}`, import.meta.url));
const { Child } = await import(dist('ipc.js'));
const { SynclineConn } = await import(dist('clients/syncline-conn.js'));
const { WsConn } = await import(dist('clients/ws-conn.js'));
const { BENCH_SECRET } = await import(dist('servers/bench-server.js'));
const { median } = await import(dist('results.js'));
const { signToken } = await import('@syncline/server');

const { values } = parseArgs({
  options: {
    rooms: { type: 'string', default: '400' },
    members: { type: 'string', default: '5' },
    subscribers: { type: 'string', default: '1000' },
    window: { type: 'string', default: '1' },
    shape: { type: 'string', default: 'rooms' },
    ops: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '15' },
    targets: { type: 'string', default: 'syncline,ws' },
    /** Directory for the servers' CPU profiles (`--cpu-prof`), when given. */
    'profile-dir': { type: 'string' },
  },
});
const rooms = Number(values.rooms);
const members = Number(values.members);
const shape = values.shape;
if (shape !== 'rooms' && shape !== 'fanout' && shape !== 'connect') throw new Error(`unknown shape ${shape}`);
const subscribers = Number(values.subscribers);
const window = Number(values.window);
const ops = Number(values.ops);
const unit = shape === 'connect' ? 'connection' : 'publication';
/** Deliveries per publication. */
const fan = shape === 'rooms' ? members : subscribers;
const rounds = Number(values.rounds);
const specs = values.targets.split(',');
if (new Set(specs).size !== specs.length) {
  throw new Error('each target once: for two servers of the same code, give one an environment switch (syncline+A=1)');
}
const pad = 'x'.repeat(40);

/** A signed token of user `i` that may do anything in the benchmark's channels. */
const tokenOf = (i) =>
  signToken(BENCH_SECRET, { sub: `u${i}`, caps: [{ match: 'bench:*', allow: ['*'] }], ttlSec: 3600 });

/** A client of `target` (`syncline` speaks JSON, `syncline-msgpack` MessagePack). */
const connOf = async (target, url, i, onPub) =>
  target === 'ws'
    ? new WsConn(url, onPub)
    : new SynclineConn(url, await tokenOf(i), onPub, target === 'syncline-msgpack' ? 'msgpack' : 'json');

/**
 * Starts a server process for `spec` and, for the rooms shape, opens the
 * rooms' connections to it. Returns `run(n)`, which does `n` operations one
 * at a time, and `close()`.
 */
async function setUp(spec) {
  const [head, ...env] = spec.split('+');
  const [target, script = dist('server-main.js')] = head.split('@');
  const profile = values['profile-dir'];
  const execArgv = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`, '--cpu-prof-interval=100'];
  const saved = { ...process.env };
  for (const kv of env) {
    const at = kv.indexOf('=');
    process.env[kv.slice(0, at)] = kv.slice(at + 1);
  }
  const server = new Child(spec, script, [target], execArgv);
  process.env = saved;
  const { url } = await server.call('start', {}, 60_000);
  const conns = [];
  let expected = 0;
  let arrived = 0;
  let wake;
  const onPub = () => {
    arrived++;
    if (arrived === expected && wake) wake();
  };
  /** Opens connection `i`, subscribed to `channel`. */
  const subscriber = async (i, channel) => {
    const conn = await connOf(target, url, i, onPub);
    await conn.open();
    await conn.subscribe(channel);
    return conn;
  };
  if (shape === 'rooms') {
    for (let i = 0; i < rooms * members; i++) {
      const channel = `bench:room-${Math.floor(i / members)}`;
      conns.push({ conn: await subscriber(i, channel), channel, seq: 0, id: i + 1 });
    }
  }
  if (shape === 'fanout') {
    for (let i = 0; i < subscribers; i++) conns.push({ conn: await subscriber(i, 'bench:fan') });
    const conn = await connOf(target, url, subscribers, onPub);
    await conn.open();
    conns.push({ conn, channel: 'bench:fan', seq: 0, id: subscribers + 1 });
  }
  /** Resolves once `count` more publications have arrived at subscribers (rejects after 30 s). */
  const arrivals = (count) => {
    expected = arrived + count;
    return new Promise((resolve, reject) => {
      wake = resolve;
      setTimeout(() => reject(new Error(`${spec}: publications not delivered`)), 30_000).unref();
    });
  };
  /** Publishes from connection `c`; resolves when it is acknowledged. */
  const publishFrom = (c) => {
    c.seq++;
    return c.conn.publish(c.channel, `{"p":${c.id},"s":${c.seq},"t":${performance.now()},"x":"${pad}"}`);
  };
  /**
   * Publishes `n` times, one at a time, each reaching its `fan` subscribers
   * before the next: round the rooms' members, or from the fan-out's
   * publisher. With the fan-out's `window` above 1, that many are in flight
   * and the round waits for all of them at its end.
   */
  const publish = async (n) => {
    if (shape === 'rooms' || window === 1) {
      for (let k = 0; k < n; k++) {
        const delivered = arrivals(fan);
        await publishFrom(shape === 'rooms' ? conns[k % conns.length] : conns[conns.length - 1]);
        if (arrived < expected) await delivered;
      }
      return;
    }
    const delivered = arrivals(n * fan);
    let sent = 0;
    const lane = async () => {
      while (sent < n) {
        sent++;
        await publishFrom(conns[conns.length - 1]);
      }
    };
    await Promise.all(Array.from({ length: window }, lane));
    if (arrived < expected) await delivered;
  };
  // Tokens are signed before the round: signing is the client's work.
  let next = 0;
  /** Opens `n` connections, one at a time; returns a function that closes them. */
  const connect = async (n) => {
    const made = [];
    for (let k = 0; k < n; k++) made.push(await connOf(target, url, next++, onPub));
    return made;
  };
  const run = async (n) => {
    if (shape !== 'connect') return publish(n);
    const made = await connect(n);
    await server.call('mark', {});
    for (const conn of made) await conn.open();
    const stats = await server.call('stats', {});
    for (const conn of made) conn.close();
    // The next round starts once the server has let every connection go.
    for (let waited = 0; (await server.call('stats', {})).connections > 0 && waited < 10_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return stats;
  };
  const close = async () => {
    for (const { conn } of conns) conn.close();
    await server.call('stop', {}, 30_000).catch(() => undefined);
    await server.stop();
  };
  return { server, run, close };
}

const rigs = new Map();
try {
  for (const spec of specs) {
    const rig = await setUp(spec);
    rigs.set(spec, rig);
    await rig.run(shape === 'fanout' ? Math.min(ops, 200) : Math.min(ops * 2, rooms * members * 2)); // warm-up
  }
  const perPub = new Map(specs.map((s) => [s, []]));
  const sysPerPub = new Map(specs.map((s) => [s, []]));
  for (let r = 1; r <= rounds; r++) {
    const line = [];
    // Each round starts with the next target: a target's place in the round moves its CPU by a few
    // percent (the one after another runs warmer), so every target takes every place in turn.
    const order = specs.map((_, i) => specs[(i + r - 1) % specs.length]);
    for (const spec of order) {
      const rig = rigs.get(spec);
      let stats;
      if (shape !== 'connect') {
        await rig.server.call('mark', {});
        await rig.run(ops);
        stats = await rig.server.call('stats', {});
      } else stats = await rig.run(ops);
      perPub.get(spec).push(stats.cpuUs / ops);
      sysPerPub.get(spec).push(stats.systemUs / ops);
      line[specs.indexOf(spec)] =
        `${spec} ${(stats.cpuUs / ops).toFixed(1)} (system ${(stats.systemUs / ops).toFixed(1)})`;
    }
    process.stdout.write(`round ${r}: ${line.join(', ')} µs per ${unit}\n`);
  }
  // Ratios are taken round by round (the specs of one round ran seconds apart), then their median.
  const base = specs[0];
  const ws = specs.find((s) => s.split(/[@+]/)[0] === 'ws');
  const what =
    shape === 'rooms'
      ? `publications, ${rooms} rooms x ${members}`
      : shape === 'fanout'
        ? `publications to ${subscribers} subscribers, ${window} in flight`
        : 'connections';
  process.stdout.write(`\nmedians over ${rounds} rounds of ${ops} ${what}:\n`);
  for (const spec of specs) {
    const xs = perPub.get(spec);
    const ratio = (other) => median(xs.map((x, i) => x / perPub.get(other)[i])).toFixed(3);
    process.stdout.write(
      `  ${spec}: ${median(xs).toFixed(2)} µs per ${unit} (system ${median(sysPerPub.get(spec)).toFixed(2)})${shape === 'connect' ? '' : `, ${(median(xs) / fan).toFixed(2)} per delivery`}` +
        `${ws !== undefined && spec !== ws ? `, ${ratio(ws)}x ws` : ''}${spec !== base ? `, ${ratio(base)}x ${base}` : ''}\n`,
    );
  }
} finally {
  for (const rig of rigs.values()) await rig.close();
}
process.exit(0);
