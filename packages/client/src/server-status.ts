import type { NodeStatus } from '@syncline/protocol';

/** The status of a node with every backend up. */
export const HEALTHY_STATUS: NodeStatus = { degraded: false, down: [] };

function same(a: NodeStatus, b: NodeStatus): boolean {
  return a.degraded === b.degraded && a.down.length === b.down.length && a.down.every((x, i) => b.down[i] === x);
}

/**
 * The client's view of its node's backends (`client.serverStatus`,
 * `degraded` event): from the connect reply (`status` present only while the
 * node is degraded) and `status` pushes. A connect without `status` means the
 * node is healthy, so moving to a healthy node clears a degraded state.
 */
export class ServerStatusTracker {
  #current: NodeStatus = HEALTHY_STATUS;
  readonly #onChange: (status: NodeStatus) => void;

  /** `onChange` is called with the new status whenever it changes. */
  constructor(onChange: (status: NodeStatus) => void) {
    this.#onChange = onChange;
  }

  /** The last status the node reported. */
  get current(): NodeStatus {
    return this.#current;
  }

  /** Applies a reported status (`undefined`: healthy). */
  apply(reported: Partial<NodeStatus> | undefined): void {
    const down = Array.isArray(reported?.down) ? reported.down : [];
    const next: NodeStatus =
      reported?.degraded === true
        ? { degraded: true, down, ...(reported.reason === undefined ? {} : { reason: reported.reason }) }
        : HEALTHY_STATUS;
    if (same(next, this.#current)) return;
    this.#current = next;
    this.#onChange(next);
  }
}
