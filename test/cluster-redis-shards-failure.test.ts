import type { ReceivedPublication } from '@syncline/client';
import { NODE_WIDE_NAME, pickShard, shardName } from '@syncline/redis';
import {
  CHANNEL_ANOMALY_KINDS,
  checkChannelHistory,
  describeChannelAnomaly,
  type FinalChannelHistory,
  HistoryRecorder,
} from '@syncline/testing';
import { describe, expect, it } from 'vitest';
import { ChannelTraffic, readChannelHistory } from './cluster/chaos-channels.js';
import { redisAdmin } from './cluster/chaos-faults.js';
import { chaosSeed, seededRng, waitUntil } from './cluster/chaos-util.js';
import {
  API_KEY,
  clusterClient,
  httpPublish,
  nodeApi,
  startCluster,
  startNode,
  tryConnect,
} from './cluster/cluster.js';
import { redisClusterService } from './cluster/redis-cluster-env.js';
import { startPrivateRedis } from './cluster/redis-env.js';
import { describeValue, token, waitFor } from './helpers.js';

/** Channels of the instance that is killed, and of the two that stay up. */
const LOST_CHANNELS = 3;
const KEPT_CHANNELS = 4;
const STEP_ACKS = 30;
/** Codes a publish may get on a channel whose instance is down (docs/guarantees.md). */
const OUTAGE_CODES = ['unavailable', 'timeout', 'request_timeout'];

const log = (line: string): void => console.log(`[shard failure] ${line}`);

async function historyStatus(nodeUrl: string, channel: string): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${nodeUrl}/v1/channels/${encodeURIComponent(channel)}/history?since=0&limit=10`, {
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  const body = (await res.json()) as { error?: { code?: string } };
  return body.error?.code === undefined ? { status: res.status } : { status: res.status, code: body.error.code };
}

describe.runIf(redisClusterService.available)('one of three independent Redis instances killed under traffic', () => {
  it('the other instances’ channels go on untouched; the lost one’s answer retryable errors, then start a new epoch told as recovered: false', async () => {
    const seed = chaosSeed();
    log(`seed ${seed} (SYNCLINE_CHAOS_SEED=${seed} replays the traffic)`);
    const rng = seededRng(seed);
    const began = Date.now();
    const step = (what: string): void => log(`${((Date.now() - began) / 1000).toFixed(1)} s: ${what}`);
    const instances = await Promise.all([startPrivateRedis(), startPrivateRedis(), startPrivateRedis()]);
    const urls = instances.map((i) => i.url);
    const names = urls.map(shardName);
    // The instance killed is not the one holding node-wide state (that case is documented in docs/operations.md).
    const home = pickShard(NODE_WIDE_NAME, names);
    const victim = (home + 1) % instances.length;
    const run = `${seed.toString(36)}-${Date.now().toString(36)}`;
    const lost: string[] = [];
    const kept: string[] = [];
    for (let k = 0; lost.length < LOST_CHANNELS || kept.length < KEPT_CHANNELS; k++) {
      const c = `chat:shardfail-${run}-${k}`;
      const list = pickShard(c, names) === victim ? lost : kept;
      if (list.length < (list === lost ? LOST_CHANNELS : KEPT_CHANNELS)) list.push(c);
    }
    const { nodes } = await startCluster({ nodes: 2, redisUrls: urls, prefix: `syncline-shardfail-${run}:` });
    const nodeUrls = nodes.map((n) => n.url);
    const rec = new HistoryRecorder();
    const common = { urls: nodeUrls, channelsPerSubscriber: 2, publishers: 2, publishPauseMs: 40, rng, recorder: rec };
    const keptTraffic = await ChannelTraffic.start({ ...common, channels: kept, subscribers: 6, label: 'kept-' });
    const lostTraffic = await ChannelTraffic.start({ ...common, channels: lost, subscribers: 4, label: 'lost-' });
    const progress = async (t: ChannelTraffic, n: number, what: string): Promise<void> => {
      const from = t.ackCount;
      await waitUntil(
        () => t.ackCount >= from + n,
        20_000,
        `${n} acknowledged publishes ${what}`,
        () => `${t.ackCount - from} acks; failures ${JSON.stringify([...t.failures])}`,
      );
    };
    await Promise.all([
      progress(keptTraffic, STEP_ACKS, 'on the kept channels before the kill'),
      progress(lostTraffic, STEP_ACKS, 'on the lost channels before the kill'),
    ]);
    const epochBefore = new Map(lostTraffic.acks.map((a) => [a.channel, a.epoch]));

    step(`kill -9 instance ${names[victim]} (${lost.length} channels on it)`);
    keptTraffic.phase = 'down';
    lostTraffic.phase = 'down';
    await instances[victim]?.kill();
    // The lost channels answer a retryable error at once once the node saw the instance go (within 3 s).
    let lastPublish: { status: number; body: unknown } | undefined;
    await waitUntil(
      async () => {
        const r = await httpPublish(nodeUrls[1] as string, lost[0] as string, { probe: true });
        lastPublish = r;
        return r.status === 503 && (r.body as { error?: { code?: string } }).error?.code === 'unavailable';
      },
      10_000,
      `503 unavailable for a publish on ${lost[0]}`,
      () => describeValue(lastPublish),
    );
    expect(await historyStatus(nodeUrls[0] as string, lost[0] as string)).toEqual({ status: 503, code: 'unavailable' });
    // The kept channels go on: publishes, a history read, and a new subscriber on each node.
    await progress(keptTraffic, STEP_ACKS, 'on the kept channels with the instance down');
    expect(await historyStatus(nodeUrls[1] as string, kept[0] as string)).toEqual({ status: 200 });
    const late = await Promise.all(nodeUrls.map((_, i) => clusterClient(nodeUrls, `late-${i}`, i)));
    const lateGot = late.map(() => [] as ReceivedPublication[]);
    const lateSubs = late.map((c, i) => c.subscribe(kept[1] as string, { onPublication: (p) => lateGot[i]?.push(p) }));
    await waitFor(
      () => lateSubs.every((s) => s.state === 'subscribed'),
      5_000,
      () => `wanted subscribes during the outage to succeed, saw ${lateSubs.map((s) => s.state).join(', ')}`,
    );
    const marker = await httpPublish(nodeUrls[0] as string, kept[1] as string, { marker: 'down' });
    expect(marker.status).toBe(200);
    for (const got of lateGot) {
      await waitFor(
        () => got.some((p) => p.offset === marker.body.offset),
        5_000,
        () => `wanted offset ${marker.body.offset} at a subscriber that joined during the outage, saw ${got.length}`,
      );
    }
    // Presence on a kept instance works too, across the nodes.
    let room = '';
    for (let k = 0; room === '' || pickShard(room, names) === victim; k++) room = `room:shardfail-${run}-${k}`;
    await late[0]?.presence(room).enter({ user: 'late-0' });
    const watch = late[1]?.presence(room);
    await waitFor(
      () => watch?.members.current.some((m) => m.user === 'late-0') === true,
      5_000,
      () => `wanted late-0 present in ${room}, saw ${describeValue(watch?.members.current)}`,
    );
    // The nodes stay ready: every node shares the instances, so taking them out would stop every channel.
    for (const u of nodeUrls) expect((await fetch(`${u}/readyz`)).status).toBe(200);
    await progress(keptTraffic, STEP_ACKS, 'on the kept channels while the lost ones fail');
    await waitUntil(
      () => [...lostTraffic.failures.values()].reduce((a, b) => a + b, 0) >= 10,
      10_000,
      'failed publishes on the lost channels',
      () => JSON.stringify([...lostTraffic.failures]),
    );

    step('instance restarted empty');
    keptTraffic.phase = 'back';
    lostTraffic.phase = 'back';
    await instances[victim]?.start();
    await Promise.all([
      progress(lostTraffic, STEP_ACKS, 'on the lost channels after the restart'),
      progress(keptTraffic, STEP_ACKS, 'on the kept channels after the restart'),
    ]);

    step('quiet');
    await Promise.all([keptTraffic.stop(), lostTraffic.stop()]);
    let finals = new Map<string, FinalChannelHistory>();
    await waitUntil(
      async () => {
        finals = new Map();
        for (const c of [...kept, ...lost]) finals.set(c, await readChannelHistory(nodeUrls[0] as string, c));
        return [...keptTraffic.lagging(finals), ...lostTraffic.lagging(finals)].length === 0;
      },
      20_000,
      'every subscriber at its channel’s last position',
      () => [...keptTraffic.lagging(finals), ...lostTraffic.lagging(finals)].slice(0, 10).join('; '),
    );
    for (const f of finals.values()) rec.finalHistory(f);
    const history = rec.history();
    const ch = checkChannelHistory(history);
    step(`${ch.summary}`);
    log(
      `failures: kept ${JSON.stringify([...keptTraffic.failures])}, lost ${JSON.stringify([...lostTraffic.failures])}`,
    );
    expect(CHANNEL_ANOMALY_KINDS.flatMap((k) => ch.examples[k].map((a) => describeChannelAnomaly(a)))).toEqual([]);
    expect(ch.ok).toBe(true);

    // Kept channels: not one failed publish, one epoch, every subscriber subscribed once and never told of a loss.
    expect([...keptTraffic.failures]).toEqual([]);
    for (const c of kept) {
      expect(new Set(keptTraffic.acks.filter((a) => a.channel === c).map((a) => a.epoch)), c).toEqual(
        new Set([finals.get(c)?.epoch]),
      );
    }
    const replies = history.events.filter((e) => e.type === 'subscribed');
    const keptReplies = replies.filter((e) => kept.includes(e.channel));
    expect(keptReplies.filter((e) => e.recovered === false || e.since !== undefined)).toEqual([]);
    expect(keptReplies.length).toBe(keptTraffic.subscriptions.length);

    // Lost channels: only retryable errors while down, a new epoch after, every subscriber told recovered: false.
    expect([...lostTraffic.failures.keys()].filter((code) => !OUTAGE_CODES.includes(code))).toEqual([]);
    for (const c of lost) {
      expect(finals.get(c)?.epoch, c).not.toBe(epochBefore.get(c));
      expect(lostTraffic.acks.some((a) => a.channel === c && a.epoch === finals.get(c)?.epoch)).toBe(true);
    }
    for (const [name, c] of lostTraffic.subscriptions) {
      const told = replies.some(
        (e) => e.subscriber === name && e.channel === c && e.recovered === false && e.epoch === finals.get(c)?.epoch,
      );
      expect(told, `${name} on ${c} told recovered: false in the new epoch`).toBe(true);
    }
  }, 90_000);

  it('the instance holding node-wide state killed and restarted empty: the other instances’ channels go on, revocations are written back and still refuse old tokens, counts come back', async () => {
    const instances = await Promise.all([startPrivateRedis(), startPrivateRedis(), startPrivateRedis()]);
    const urls = instances.map((i) => i.url);
    const names = urls.map(shardName);
    const home = pickShard(NODE_WIDE_NAME, names);
    const homeRedis = instances[home];
    const run = Date.now().toString(36);
    const prefix = `syncline-shardhome-${run}:`;
    let channel = '';
    for (let k = 0; channel === '' || pickShard(channel, names) === home; k++) channel = `chat:shardhome-${run}-${k}`;
    const { nodes, dir, config } = await startCluster({ nodes: 2, redisUrls: urls, prefix });
    const [a, b] = nodes.map((n) => n.url) as [string, string];
    const oldToken = await token('mallory');
    const revoked = await nodeApi(a, 'POST', '/v1/users/mallory/revoke', { reason: 'suspended' });
    const sub = await clusterClient([b], 'sub');
    const got: ReceivedPublication[] = [];
    await sub.subscribe(channel, { onPublication: (p) => got.push(p) }).ready;

    await homeRedis?.kill();
    // A new revocation cannot be stored: refused with a retryable code.
    let answer: { status: number; code?: string } = { status: 0 };
    await waitUntil(
      async () => {
        const res = await fetch(`${a}/v1/users/eve/revoke`, {
          method: 'POST',
          headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
          body: '{}',
        });
        const body = (await res.json()) as { error?: { code?: string } };
        answer =
          body.error?.code === undefined ? { status: res.status } : { status: res.status, code: body.error.code };
        return res.status === 503;
      },
      10_000,
      'a revoke refused while the instance holding revocations is down',
      () => describeValue(answer),
    );
    expect(answer).toEqual({ status: 503, code: 'unavailable' });
    // The nodes keep enforcing the revocations they hold, and other instances' channels keep serving.
    for (const url of [a, b]) expect(await tryConnect(url, oldToken)).toBe('revoked');
    const during = await httpPublish(a, channel, { during: true });
    expect(during.status, describeValue(during.body)).toBe(200);
    await waitFor(
      () => got.some((p) => p.offset === during.body.offset),
      5_000,
      () => `wanted offset ${during.body.offset} at the subscriber, saw ${describeValue(got.map((p) => p.offset))}`,
    );

    // Back empty: the next re-read of the revocations (every 5 s) finds them lost and writes back what the node holds.
    await homeRedis?.start();
    let stored: string | null = null;
    await waitUntil(
      async () => {
        stored = homeRedis ? await redisAdmin(homeRedis, (r) => r.hget(`${prefix}revocations`, 'mallory')) : null;
        return stored === String(revoked.before);
      },
      15_000,
      `mallory's revocation written back as ${revoked.before}`,
      () => String(stored),
    );
    // A node started now reads it and refuses the old token too.
    const late = await startNode(2, dir, config, prefix, { redisUrls: urls });
    expect(await tryConnect(late.url, oldToken)).toBe('revoked');
    // Subscriber counts (node-wide, reported every second) come back: node A sees B's subscriber.
    let seen: unknown;
    await waitUntil(
      async () => {
        const r = await nodeApi(a, 'GET', `/v1/channels/${encodeURIComponent(channel)}`).catch((e: Error) => e);
        seen = r instanceof Error ? r.message : r.subscribers;
        return seen === 1;
      },
      10_000,
      'the channel’s subscriber count through node A',
      () => describeValue(seen),
    );
    expect(got.map((p) => p.offset)).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
  }, 60_000);
});
