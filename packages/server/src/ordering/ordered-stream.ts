/** What an `OrderedStream` is built from. */
export interface OrderedStreamOptions<T> {
  /** The item's position in its stream: 1, 2, 3… with no position skipped at the source. */
  position(item: T): number;
  /**
   * Called for each item when the stream takes it up (at once, or after the
   * repair it waited for), before the duplicate and gap checks. The owner
   * may call `restart` from here (a new epoch starts its positions again).
   */
  onArrive?(item: T): void;
  /**
   * Reads the items missing between position `after` (exclusive) and the
   * item `before` (exclusive). May return fewer (some lost), more, items out
   * of that range or an empty list; items outside the range are ignored.
   * May reject: the gap is then passed as if nothing was found.
   */
  fill(after: number, before: T): Promise<readonly T[]>;
  /** Hands one item on, in position order. Should not throw. */
  deliver(item: T): void;
  /** A failed `fill`, or what `deliver` threw while a repair completed. */
  onError(err: unknown): void;
}

/**
 * One ordered stream of positioned items (a channel's publications, a
 * document's ops) as received from a source that may drop, repeat or reorder
 * them. Its contract:
 *
 * - **In order, each once**: `deliver` sees strictly increasing positions.
 *   An item at or below the last delivered position (a duplicate, an old
 *   item) is dropped.
 * - **Start**: until the first delivery (or after `restart(0)`) the position
 *   is unknown, and the first item taken up is delivered whatever its
 *   position.
 * - **Gaps**: an item more than one past the last delivered position starts
 *   a repair: `fill(last, item)` is called once, and the items it returns
 *   that lie inside the gap are delivered in position order. Then the gap is
 *   passed, filled or not (a failed `fill`, a partial one, or one that found
 *   nothing), and the item that opened it is taken up again. A gap gets one
 *   repair attempt, never a loop: what history cannot fill, readers of the
 *   stream recover by other means.
 * - **During a repair** every item received waits in a queue, in arrival
 *   order. When the repair ends they are taken up again in that order, as if
 *   they arrived then: duplicates and old items are dropped, and a new gap
 *   among them starts a new repair, which the rest wait for.
 * - **Restart**: `restart(position)` sets the last delivered position (the
 *   source began again, e.g. a new epoch). A repair in flight when the
 *   stream restarts delivers nothing from its `fill` and moves no position;
 *   its queue is still taken up.
 */
export class OrderedStream<T> {
  readonly #options: OrderedStreamOptions<T>;
  #last = 0;
  /** Items received during a repair, in arrival order (undefined: no repair in flight). */
  #queue: T[] | undefined;
  /** Bumped by `restart`: a repair started before it is stale. */
  #generation = 0;

  constructor(options: OrderedStreamOptions<T>) {
    this.#options = options;
  }

  /** Position of the last item delivered (0: unknown yet). */
  get last(): number {
    return this.#last;
  }

  /** Whether a repair is in flight (items received now wait for it). */
  get repairing(): boolean {
    return this.#queue !== undefined;
  }

  /** Takes an item from the source: delivers it, drops it, queues it, or starts a repair (see the class contract). */
  receive(item: T): void {
    if (this.#queue) {
      this.#queue.push(item);
      return;
    }
    this.#options.onArrive?.(item);
    const position = this.#options.position(item);
    if (this.#last > 0 && position > this.#last + 1) {
      this.#repair(item, position);
      return;
    }
    this.#deliver(item);
  }

  /** Sets the last delivered position (0: unknown, the next item is delivered whatever its position). */
  restart(position: number): void {
    this.#last = position;
    this.#generation++;
  }

  #deliver(item: T): void {
    const position = this.#options.position(item);
    if (position <= this.#last) return;
    this.#last = position;
    this.#options.deliver(item);
  }

  #repair(first: T, position: number): void {
    this.#queue = [first];
    const generation = this.#generation;
    const o = this.#options;
    let read: Promise<readonly T[]>;
    try {
      read = o.fill(this.#last, first);
    } catch (err) {
      read = Promise.reject(err);
    }
    read
      .then(
        (items) => {
          if (generation !== this.#generation) return;
          const inGap = items.filter((item) => o.position(item) < position);
          inGap.sort((a, b) => o.position(a) - o.position(b));
          for (const item of inGap) this.#guarded(() => this.#deliver(item));
        },
        (err: unknown) => o.onError(err),
      )
      .finally(() => {
        // One attempt per gap: what `fill` could not fill is passed.
        if (generation === this.#generation) this.#last = Math.max(this.#last, position - 1);
        const queued = this.#queue ?? [];
        this.#queue = undefined;
        for (const item of queued) this.#guarded(() => this.receive(item));
      });
  }

  #guarded(run: () => void): void {
    try {
      run();
    } catch (err) {
      this.#options.onError(err);
    }
  }
}
