import {
  CHANNEL_ANOMALY_KINDS,
  canonicalJson,
  checkChannelHistory,
  describeChannelAnomaly,
  HistoryRecorder,
} from '@syncline/testing';
import { describe, expect, it } from 'vitest';
import { ChannelTraffic } from './cluster/chaos-channels.js';
import { settledChannels } from './cluster/chaos-check.js';
import { ChaosNodes, channelEpochs } from './cluster/chaos-faults.js';
import { chaosSeed, seededRng, waitUntil } from './cluster/chaos-util.js';
import { writeClusterConfig } from './cluster/cluster.js';
import { redisClusterService, withNode } from './cluster/redis-cluster-env.js';
import { sharedRedisCluster } from './cluster/redis-cluster-fixture.js';
import { tempDir } from './helpers.js';

const STEP_ACKS = 40;

const log = (line: string): void => console.log(`[cluster failover] ${line}`);

// With `--redis-ack-replicas 1` a publish is acknowledged only once the
// shard's replica has it (WAIT on the master that ran the publish script): a
// failover to that replica keeps every acknowledged publication. The
// channel still gets a new epoch (the node cannot tell what the replica
// missed of what was not acknowledged), so subscribers are told to refetch.
// While the promoted master has no replica, no publish on it is acknowledged.
describe.runIf(redisClusterService.available)('failover of a Redis Cluster shard with replica acknowledgements', () => {
  const redis = sharedRedisCluster(redisClusterService.available, { masters: 3, replicas: 1 });

  it('kill -9 of the master of the channels’ slot while publishing: every acknowledged publication is kept, subscribers recover or are told', async () => {
    const rc = redis();
    const seed = chaosSeed();
    log(`seed ${seed}`);
    const rng = seededRng(seed);
    const dir = tempDir();
    const run = seed.toString(36);
    const nodes = await ChaosNodes.start(2, dir, writeClusterConfig(dir), `syncline-failover-${run}:`, {
      redisCluster: rc.seeds,
      env: { SYNCLINE_LOG_LEVEL: 'error', SYNCLINE_REDIS_ACK_REPLICAS: '1', SYNCLINE_REDIS_ACK_TIMEOUT_MS: '1000' },
    });
    // The master of the first channel's slot is killed; the second is on that shard or another.
    const base = `chat:failover-${run}-${Date.now().toString(36)}`;
    const channels = [base, `${base}.b`];
    const slots = await withNode(rc.seeds[0] as string, (r) =>
      Promise.all(channels.map(async (c) => Number(await r.cluster('KEYSLOT', `{${c}}`)))),
    );
    const rec = new HistoryRecorder();
    const traffic = await ChannelTraffic.start({
      urls: nodes.urls,
      channels,
      subscribers: 8,
      channelsPerSubscriber: 2,
      publishers: 3,
      publishPauseMs: 40,
      rng,
      recorder: rec,
    });
    const progress = async (n: number, what: string): Promise<void> => {
      const from = traffic.ackCount;
      await waitUntil(
        () => traffic.ackCount >= from + n,
        30_000,
        `${n} acknowledged publishes ${what}`,
        () => `${traffic.ackCount - from} acks; failures ${JSON.stringify([...traffic.failures])}`,
      );
    };
    await progress(STEP_ACKS, 'before the failover');
    const before = await channelEpochs(nodes, channels);
    const killedAt = traffic.acks.length;
    traffic.phase = 'failover';
    const { killed, promoted } = await rc.killMasterOf(slots[0] as number);
    log(`${promoted} took over slot ${slots[0]} from ${killed}`);
    // The new master has no replica yet: no publish can be acknowledged
    // (each answers `timeout`, outcome unknown) until the old master rejoins
    // as its replica.
    const acksWithoutReplica = traffic.ackCount;
    await rc.restart(killed);
    log(`${killed} back as a replica; ${traffic.ackCount - acksWithoutReplica} acks meanwhile`);
    await progress(STEP_ACKS, 'after the failover');
    traffic.phase = 'after';
    const after = await channelEpochs(nodes, channels);
    await traffic.stop();

    const finals = await settledChannels(nodes, channels, traffic);
    // Every acknowledged publication, before and after the failover, is in the history at its offset.
    const lost: string[] = [];
    for (const a of traffic.acks) {
      const at = finals.get(a.channel)?.publications.find((p) => p.offset === a.offset);
      if (!at || canonicalJson(at.payload) !== canonicalJson(a.payload)) {
        lost.push(
          `${a.key} acked at ${a.channel}@${a.epoch}:${a.offset} (${a.phase}) holds ${at ? canonicalJson(at.payload) : 'nothing'}`,
        );
      }
    }
    for (const f of finals.values()) rec.finalHistory(f);
    const ch = checkChannelHistory(rec.history());
    log(
      `${traffic.acks.length} acks (${killedAt} before the kill), failures ${JSON.stringify(Object.fromEntries(traffic.failures))}`,
    );
    log(`channels: ${ch.summary}`);
    expect(lost).toEqual([]);
    expect(CHANNEL_ANOMALY_KINDS.flatMap((k) => ch.examples[k].map((a) => describeChannelAnomaly(a)))).toEqual([]);
    expect(ch.ok).toBe(true);
    // The failover replaced the epochs of the failed shard's channels, and subscribers were told.
    for (const [i, c] of channels.entries()) {
      if ((await rc.masterOf(slots[i] as number)) === promoted) expect(after.get(c)).not.toBe(before.get(c));
    }
    expect(after.get(channels[0] as string)).not.toBe(before.get(channels[0] as string));
    expect(ch.stats.notRecovered).toBeGreaterThan(0);
  }, 120_000);
});
