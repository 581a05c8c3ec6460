import { DocHistoryRecorder, HistoryRecorder } from '@syncline/testing';
import { describe, expect, it } from 'vitest';
import { ChannelTraffic } from './cluster/chaos-channels.js';
import { checkChaos, settledChannels, settledDocs } from './cluster/chaos-check.js';
import { DocTraffic } from './cluster/chaos-docs.js';
import { ChaosNodes, channelEpochs, startCutter } from './cluster/chaos-faults.js';
import { chaosSeed, seededRng, waitUntil } from './cluster/chaos-util.js';
import { writeClusterConfig } from './cluster/cluster.js';
import { DATABASE_URL, postgresService } from './cluster/postgres-env.js';
import { redisClusterService, withNode } from './cluster/redis-cluster-env.js';
import { sharedRedisCluster } from './cluster/redis-cluster-fixture.js';
import { tempDir } from './helpers.js';

const CHANNELS = 3;
const SUBSCRIBERS = 18;
const PUBLISHERS = 4;
const PUBLISH_PAUSE_MS = 60;
const DOCS = 2;
const DOC_WRITERS = 2;
const DOC_READERS = 2;
const DOC_PAUSE_MS = 150;
/** Acknowledged publishes each step waits for before the next fault: traffic flows throughout. */
const STEP_ACKS = 50;
const ROUNDS = 2;

const log = (line: string): void => console.log(`[chaos cluster] ${line}`);

const services = redisClusterService.available && postgresService.available;

describe.runIf(services)('chaos: three nodes on a Redis Cluster (3 masters, 1 replica each) and PostgreSQL', () => {
  const redis = sharedRedisCluster(services, { masters: 3, replicas: 1 });

  it('node kills, slots moved while publishing, shard masters killed and failed over, network cuts: no anomaly the guarantees forbid', async () => {
    const rc = redis();
    const seed = chaosSeed();
    log(`seed ${seed} (SYNCLINE_CHAOS_SEED=${seed} replays this schedule)`);
    const rng = seededRng(seed);
    const began = Date.now();
    const run = seed.toString(36);
    const dir = tempDir();
    const nodes = await ChaosNodes.start(3, dir, writeClusterConfig(dir), `syncline-chaos-${run}:`, {
      redisCluster: rc.seeds,
      postgresUrl: DATABASE_URL,
      env: { SYNCLINE_LOG_LEVEL: 'error' },
    });
    const channels = Array.from({ length: CHANNELS }, (_, k) => `chat:chaos-${run}-${Date.now().toString(36)}-${k}`);
    const docs = Array.from({ length: DOCS }, (_, k) => `ctr:chaos-${run}-${Date.now().toString(36)}-${k}`);
    // Each channel's keys (and shard channel) hash by the channel's tag.
    const slots = await withNode(rc.seeds[0] as string, async (r) =>
      Promise.all(channels.map(async (c) => Number(await r.cluster('KEYSLOT', `{${c}}`)))),
    );
    const rec = new HistoryRecorder();
    const docRec = new DocHistoryRecorder();
    const traffic = await ChannelTraffic.start({
      urls: nodes.urls,
      channels,
      subscribers: SUBSCRIBERS,
      channelsPerSubscriber: 2,
      publishers: PUBLISHERS,
      publishPauseMs: PUBLISH_PAUSE_MS,
      rng,
      recorder: rec,
    });
    const docTraffic = await DocTraffic.start({
      urls: nodes.urls,
      docs,
      writers: DOC_WRITERS,
      writerSlot: Math.floor(rng() * 3),
      readers: DOC_READERS,
      pauseMs: DOC_PAUSE_MS,
      rng,
      recorder: docRec,
    });
    const cutter = startCutter(nodes.proxies, rng, { minMs: 200, maxMs: 700, allProbability: 0.1, maxCuts: 100_000 });
    const progress = async (n: number, what: string): Promise<void> => {
      const from = traffic.ackCount;
      await waitUntil(
        () => traffic.ackCount >= from + n,
        30_000,
        `${n} acknowledged publishes ${what}`,
        () => `${traffic.ackCount - from} acks; failures ${JSON.stringify([...traffic.failures])}`,
      );
    };
    const step = (phase: string): void => {
      traffic.phase = phase;
      log(`${((Date.now() - began) / 1000).toFixed(1)} s: ${phase}`);
    };
    const unchangedByFailover: string[] = [];
    let moved = 0;
    let failovers = 0;

    await progress(STEP_ACKS, 'before the first fault');
    for (let round = 1; round <= ROUNDS; round++) {
      // 1. kill -9 of a Syncline node, and its restart.
      const victim = Math.floor(rng() * 3);
      step(`round ${round}: kill -9 node ${victim}`);
      await nodes.kill(victim);
      await progress(STEP_ACKS, `with node ${victim} down`);
      await nodes.restart(victim);
      await progress(STEP_ACKS, `after node ${victim} restarted`);

      // 2. Resharding while publishing: each channel's slot moves to another master.
      const masters = [...(await rc.masters()).keys()].sort();
      for (const slot of slots) {
        const from = await rc.masterOf(slot);
        const to = masters[(masters.indexOf(from) + 1 + Math.floor(rng() * (masters.length - 1))) % masters.length];
        step(`round ${round}: move slot ${slot} from ${from} to ${to}`);
        await rc.moveSlots([slot], to as string);
        moved++;
      }
      await progress(STEP_ACKS, 'after the slots moved');

      // 3. Failover: the master of one channel's slot is killed; its replica takes over.
      const target = slots[Math.floor(rng() * slots.length)] as number;
      const before = await channelEpochs(nodes, channels);
      step(`round ${round}: kill -9 the master of slot ${target}`);
      const { killed, promoted } = await rc.killMasterOf(target);
      failovers++;
      step(`round ${round}: ${promoted} took over from ${killed}`);
      await progress(STEP_ACKS, 'after the failover');
      // Channels of the failed shard start a new epoch (the promoted replica may lack acknowledged writes).
      const after = await channelEpochs(nodes, channels);
      for (const [i, c] of channels.entries()) {
        if ((await rc.masterOf(slots[i] as number)) === promoted && after.get(c) === before.get(c)) {
          unchangedByFailover.push(`${c} kept epoch ${before.get(c)} across the failover of its shard`);
        }
      }
      await rc.restart(killed);
      step(`round ${round}: ${killed} back as a replica`);
      await progress(STEP_ACKS, 'after the old master rejoined');
    }

    step('quiet');
    await cutter.stop();
    await Promise.all([traffic.stop(), docTraffic.stop()]);
    const finals = await settledChannels(nodes, channels, traffic);
    await settledDocs(nodes, docs, docTraffic);
    for (const f of finals.values()) rec.finalHistory(f);
    await docTraffic.recordFinals(nodes.apiUrl(), DATABASE_URL);

    log(
      `done in ${((Date.now() - began) / 1000).toFixed(1)} s; ${nodes.kills} node kills, ${moved} slots moved, ${failovers} failovers, ${cutter.cuts} connections cut`,
    );
    const {
      channels: ch,
      docs: dh,
      problems,
    } = checkChaos({
      name: 'chaos-cluster',
      seed,
      rec,
      docRec,
      channelTraffic: traffic,
      docTraffic,
      problems: unchangedByFailover,
      log,
    });
    expect(problems, `seed ${seed}`).toEqual([]);
    expect(ch.ok && dh.ok).toBe(true);
    // The run did what it claims: failovers and moves told subscribers to refetch.
    expect(ch.stats.notRecovered).toBeGreaterThan(0);
    expect([...docTraffic.outcomes.keys()].filter((k) => k !== 'acked' && k !== 'duplicate')).toEqual([]);
  }, 200_000);
});
