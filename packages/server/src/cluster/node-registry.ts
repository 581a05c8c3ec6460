import type { Logger } from 'pino';
import type { NodeBus } from './node-bus.js';

/** Node bus channel on which nodes announce themselves (body `{ op: 'hello' | 'alive' | 'bye' }`). */
export const NODES_CHANNEL = '$syncline:nodes';

/** Default interval of a node's announces. */
export const DEFAULT_NODE_HEARTBEAT_MS = 2_000;

/** Default time after its last announce at which a node no longer counts as live. */
export const DEFAULT_NODE_TTL_MS = 6_000;

/** Options of a node registry. */
export interface NodeRegistryOptions {
  readonly bus: NodeBus;
  readonly logger: Logger;
  /** Interval of this node's announces. */
  readonly heartbeatMs: number;
  /** A node silent for longer than this is no longer live. */
  readonly ttlMs: number;
}

/**
 * The other live nodes of a cluster, learned from the announces every node
 * sends on the node bus: `hello` when it starts (answered at once by an
 * `alive` of every node that hears it, so a new node learns its peers
 * within milliseconds), `alive` every `heartbeatMs`, `bye` when it closes.
 *
 * Contract: `live()` lists the nodes heard from within `ttlMs` that have not
 * said `bye`. A node that dies without a `bye` (killed, cut off) stays
 * listed for up to `ttlMs`; a node whose announces are lost for longer is
 * left out until its next one. On a single node the list is empty.
 */
export class NodeRegistry {
  readonly #bus: NodeBus;
  readonly #logger: Logger;
  readonly #heartbeatMs: number;
  readonly #ttlMs: number;
  readonly #seen = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #failing = false;

  constructor(options: NodeRegistryOptions) {
    this.#bus = options.bus;
    this.#logger = options.logger;
    this.#heartbeatMs = options.heartbeatMs;
    this.#ttlMs = options.ttlMs;
  }

  /** Listens for other nodes, says `hello` and starts the heartbeat (once). */
  async start(): Promise<void> {
    if (this.#timer || !this.#bus.clustered) return;
    this.#timer = setInterval(() => void this.#announce('alive'), this.#heartbeatMs);
    this.#timer.unref();
    await this.#bus.listen(NODES_CHANNEL, (body, from) => this.#heard(body.op, from));
    await this.#announce('hello');
  }

  /** The ids of the other nodes that count as live now. */
  live(now = Date.now()): string[] {
    const out: string[] = [];
    for (const [node, at] of this.#seen) {
      if (now - at <= this.#ttlMs) out.push(node);
      else this.#seen.delete(node);
    }
    return out;
  }

  /** Marks `node` as heard from now (any message of it shows it is live). */
  touch(node: string): void {
    this.#seen.set(node, Date.now());
  }

  /** Stops the heartbeat and says `bye` (best effort: a failure is logged). */
  async close(): Promise<void> {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#announce('bye');
  }

  #heard(op: unknown, from: string): void {
    if (op === 'bye') {
      this.#seen.delete(from);
      return;
    }
    if (op !== 'hello' && op !== 'alive') throw new TypeError(`unknown node announce ${String(op)}`);
    this.touch(from);
    if (op === 'hello' && this.#timer) void this.#announce('alive');
  }

  async #announce(op: 'hello' | 'alive' | 'bye'): Promise<void> {
    try {
      await this.#bus.send(NODES_CHANNEL, { op });
      this.#failing = false;
    } catch (err) {
      // Logged once per run of failures (the broker is down: its health says so).
      if (!this.#failing) this.#logger.warn({ err }, 'cannot announce this node to the others');
      this.#failing = true;
    }
  }
}
