import { Redis } from 'ioredis';

/** Default time after which a Redis command fails with a retryable error. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2_500;

/** Options shared by the stores that run on a connection they are given. */
export interface RedisStoreOptions {
  /** A connected ioredis client (e.g. `RedisBroker.redis`); the store does not close it. */
  readonly redis: Redis;
  /** Key prefix (default `syncline:`). */
  readonly prefix?: string | undefined;
}

/** The two connections of one node's Redis user: commands and pub/sub. */
export interface NodeConnections {
  /**
   * Fails commands fast while disconnected and never resends them blindly (a
   * resent publish could be applied twice).
   */
  readonly commands: Redis;
  /** Queues (re)subscriptions until Redis is back and resubscribes by itself after a reconnect. */
  readonly subscriber: Redis;
}

/** Reconnect delay: doubling from 100 ms, at most 2 s. */
function retryStrategy(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 6), 2_000);
}

/**
 * Creates (without connecting: call `connect()` on each) a command and a
 * subscriber connection to `url`. Connection errors are not emitted: callers
 * see them as failed commands and `ready` events.
 */
export function createNodeConnections(url: string, commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS): NodeConnections {
  const commands = createCommandConnection(url, commandTimeoutMs);
  // No command timeout on the subscriber: a (re)subscription queued while
  // Redis is down or paused waits until it is back, as `PubSubBus.subscribe`
  // promises. A timed-out SUBSCRIBE would leave its listener dropped while
  // ioredis still subscribes, so the channel would go silent for good.
  // Callers that need a bound (broker subscribes, presence) race their own
  // deadline and withdraw the subscription.
  const subscriber = new Redis(url, {
    lazyConnect: true,
    retryStrategy,
    maxRetriesPerRequest: null,
  });
  subscriber.on('error', () => undefined);
  return { commands, subscriber };
}

/**
 * Creates (without connecting) a command connection to `url` like
 * `NodeConnections.commands`: commands fail fast while disconnected and are
 * never resent blindly. Connection errors are not emitted.
 */
export function createCommandConnection(url: string, commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS): Redis {
  const commands = new Redis(url, {
    lazyConnect: true,
    commandTimeout: commandTimeoutMs,
    retryStrategy,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
  });
  commands.on('error', () => undefined);
  return commands;
}
