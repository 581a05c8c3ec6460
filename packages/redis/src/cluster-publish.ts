import type { PublishInput } from '@syncline/server';
import type { Cluster } from 'ioredis';
import { FEED_APPEND_SCRIPT } from './broker-scripts.js';
import type { FeedRecording } from './feed-recording.js';
import type { RedisClient } from './redis-connections.js';
import { replicaAckTimeout } from './replica-ack.js';

/**
 * On a Redis Cluster: `WAIT replicas timeoutMs` on the connection to the
 * master that ran the publish script (a pipeline with a read of the
 * channel's `meta` key routes it there). Not grouped as `ReplicaAck` does on
 * one Redis: each publish waits. Rejects with the retryable `timeout` when
 * fewer replicas confirm or the WAIT fails.
 */
export async function confirmOnShard(
  cluster: Cluster,
  replicas: number,
  timeoutMs: number,
  meta: string,
): Promise<void> {
  let confirmed = 0;
  try {
    const results = await cluster.pipeline().exists(meta).wait(replicas, timeoutMs).exec();
    const [err, n] = results?.[1] ?? [new Error('no answer to WAIT'), 0];
    if (err) throw err;
    confirmed = Number(n);
  } catch (err) {
    throw replicaAckTimeout(replicas, timeoutMs, err);
  }
  if (confirmed < replicas) throw replicaAckTimeout(replicas, timeoutMs);
}

/**
 * On a Redis Cluster the publication feed lives on its own shard, so it is
 * appended after the publish script: a publication whose append failed (or
 * whose node died in between) is stored and delivered but gets no webhook
 * event. Callers report a rejection; the publish itself still succeeds.
 */
export async function appendToFeed(
  redis: RedisClient,
  recording: FeedRecording,
  input: PublishInput,
  epoch: string,
  offset: number,
  ts: number,
): Promise<void> {
  await FEED_APPEND_SCRIPT.run(
    redis,
    [recording.keys.feed, recording.keys.counter],
    [
      recording.maxLen,
      input.channel,
      epoch,
      offset,
      ts,
      JSON.stringify(input.data ?? null),
      input.user === undefined ? '' : JSON.stringify(input.user),
    ],
  );
}
