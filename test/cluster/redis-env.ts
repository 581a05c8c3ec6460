import { randomBytes } from 'node:crypto';
import { RedisBroker } from '@syncline/redis';
import { eventually, requireService } from '@syncline/testing';
import { Redis } from 'ioredis';
import { defer, freePort, tempDir } from '../helpers.js';

/** Redis of the machine (or CI). */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether Redis answers; throws when it is required (SYNCLINE_REQUIRE_SERVICES=1) and missing. */
export const redisService = await requireService('Redis', REDIS_URL, 6379);

/** A key prefix no other test run uses; its keys are deleted after the test. */
export function testPrefix(url = REDIS_URL): string {
  const prefix = `syncline-test:${randomBytes(5).toString('hex')}:`;
  defer(() => dropPrefix(url, prefix));
  return prefix;
}

/** Waits until Redis counts no subscriber of `channels` (a cut node's connection is gone on the Redis side). */
export async function waitForNoSubscriber(channels: readonly string[], url = REDIS_URL): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await eventually(
      async () => {
        const counts = (await r.call('PUBSUB', 'NUMSUB', ...channels)) as Array<string | number>;
        return counts.filter((_, i) => i % 2 === 1).every((n) => Number(n) === 0);
      },
      `no subscriber of ${channels.join(', ')}`,
      10_000,
    );
  } finally {
    r.disconnect();
  }
}

/** Deletes every key under a prefix. */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/** A connected RedisBroker under `prefix`. */
export function redisBroker(prefix: string, url = REDIS_URL): Promise<RedisBroker> {
  return RedisBroker.connect({ url, prefix });
}

/** A private redis-server process on its own port, for tests that stop and restart Redis. */
export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** Kills the server with SIGKILL (its data is lost: no persistence). */
  kill(): Promise<void>;
  /**
   * Starts it again on the same port. `aof` switches the append-only file
   * (`--appendonly yes --appendfsync always`) on or off for this and later
   * starts; without it the setup stays as it was.
   */
  start(options?: { aof?: boolean }): Promise<void>;
  /** Sends a signal to the running server (`SIGSTOP`/`SIGCONT` make it unreachable and back). */
  signal(sig: NodeJS.Signals): void;
  /** Whether the append-only file is on for the current (or next) start. */
  readonly aof: boolean;
}

async function ping(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/**
 * Waits until the replica at `url` reports `master_link_status:up` and, given
 * its master's URL, until a write on the master is confirmed by `WAIT 1`
 * (after a diskless sync the master streams to a replica only from its first
 * acknowledgement, up to a second later); throws with what it saw at
 * `deadline`.
 */
export async function waitForReplicaLink(
  url: string,
  deadline = Date.now() + 10_000,
  masterUrl?: string,
): Promise<void> {
  const open = (u: string): Redis => {
    const r = new Redis(u, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    return r;
  };
  const replica = open(url);
  const master = masterUrl === undefined ? undefined : open(masterUrl);
  let seen = '';
  try {
    await replica.connect();
    await master?.connect();
    for (;;) {
      const link = /^master_link_status:(\w+)/m.exec(await replica.info('replication'))?.[1] ?? '(none)';
      let confirmed = 1;
      if (master && link === 'up') {
        await master.set('syncline-test:replica-check', String(Date.now()));
        confirmed = await master.wait(1, 100);
      }
      seen = `master_link_status ${link}, replicas confirming a write ${confirmed}`;
      if (link === 'up' && confirmed >= 1) return;
      if (Date.now() > deadline) throw new Error(`replica ${url}: ${seen}, wanted up and 1`);
      await new Promise((res) => setTimeout(res, 50));
    }
  } finally {
    replica.disconnect();
    master?.disconnect();
  }
}

/**
 * Starts `redis-server` on a free loopback port; killed after the test.
 * Without `dir` it keeps no data. With `dir` it loads `dir/dump.rdb` when it
 * starts (snapshots are taken only by an explicit `SAVE`), so a restart after
 * a `SAVE` brings back the data of that moment: Redis "going back in time".
 * With `aof` (needs `dir`) it runs with `--appendonly yes --appendfsync always`
 * and loads the append-only file when it starts: every acknowledged write
 * survives a kill -9.
 * With `replicaOf` (the port of another private Redis) it starts as that
 * server's replica (`--replicaof 127.0.0.1 PORT`, every start) and is
 * returned once `INFO replication` says `master_link_status:up` (the initial
 * sync done).
 */
export async function startPrivateRedis(
  options: { dir?: string; aof?: boolean; replicaOf?: number } = {},
): Promise<PrivateRedis> {
  const { spawn } = await import('node:child_process');
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let proc: import('node:child_process').ChildProcess | undefined;
  // No diskless-sync delay (5 s by default): a replica started later syncs at once.
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--repl-diskless-sync-delay',
    '0',
  ];
  if (options.dir) args.push('--dir', options.dir, '--dbfilename', 'dump.rdb');
  if (options.replicaOf !== undefined) {
    args.push('--replicaof', '127.0.0.1', String(options.replicaOf));
    // A replica writes the snapshot of its initial sync to its folder.
    if (!options.dir) args.push('--dir', tempDir());
  }
  let aof = options.aof === true;
  const aofArgs = (): string[] => (aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : []);
  const start = async (startOptions: { aof?: boolean } = {}): Promise<void> => {
    if (startOptions.aof !== undefined) aof = startOptions.aof;
    if (aof && !options.dir) throw new Error('a private redis-server with an append-only file needs a dir');
    // Later flags win: the AOF flags override the `--appendonly no` above.
    proc = spawn('redis-server', [...args, ...aofArgs()], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await ping(url))) {
      if (Date.now() > deadline) throw new Error(`private redis-server did not start on ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (options.replicaOf !== undefined) {
      await waitForReplicaLink(url, deadline, `redis://127.0.0.1:${options.replicaOf}`);
    }
  };
  const kill = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };
  await start();
  defer(kill);
  const signal = (sig: NodeJS.Signals): void => {
    if (proc && proc.exitCode === null) proc.kill(sig);
  };
  // A stopped server would hang every later cleanup that talks to it.
  defer(() => signal('SIGCONT'));
  return {
    url,
    port,
    kill,
    start,
    signal,
    get aof() {
      return aof;
    },
  };
}
