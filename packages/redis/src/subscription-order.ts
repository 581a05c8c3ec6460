/**
 * Keeps each pub/sub channel's subscribe and unsubscribe commands in the
 * order they were asked for: a command starts once the previous command of
 * its channel has settled, whatever its outcome.
 *
 * Needed on a Redis Cluster: the client sends a sharded (un)subscribe again
 * after a failover or a `MOVED` reply, and updates its own list of
 * subscribed channels each time it sends. An unsubscribe sent again after a
 * later subscribe of the same channel would otherwise leave the node
 * unsubscribed while it believes it listens (the channel's subscribers would
 * silently miss its publications).
 */
export class SubscriptionOrder {
  /** Per channel: settles when its last command has settled (absent: none in flight). */
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `command` for `channel` after that channel's earlier commands settled. */
  run<T>(channel: string, command: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(channel);
    const result = previous === undefined ? start(command) : previous.then(command);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(channel, tail);
    void tail.then(() => {
      if (this.#tails.get(channel) === tail) this.#tails.delete(channel);
    });
    return result;
  }

  /** Channels with a command in flight. */
  get pending(): number {
    return this.#tails.size;
  }
}

function start<T>(command: () => Promise<T>): Promise<T> {
  try {
    return command();
  } catch (err) {
    return Promise.reject(err);
  }
}
