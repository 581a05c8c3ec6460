import { SynclineError } from '@syncline/protocol';
import type { Session } from './session.js';

/** Base reconnect hint for a client refused by the per-address limits. */
export const IP_REFUSED_RETRY_MS = 5_000;

/** Connections of one client address. */
interface AddressCount {
  readonly ip: string;
  /** Open sessions of this address, connected or not. */
  open: number;
  /** Of those, the sessions that have not connected yet. */
  pending: number;
}

/**
 * Open connections per client address over every transport (WebSocket, SSE,
 * long-polling), with two caps: `maxPerIp` in all, and a quarter of it for
 * connections that have not completed `connect` yet (an unauthenticated
 * connection costs the node memory and a deadline, and proves nothing).
 * Loopback is not exempt. A session counts from `add` until `release`
 * (its close), whatever state it closes in.
 */
export class IpSlots {
  readonly #maxPerIp: number;
  readonly #maxPendingPerIp: number;
  readonly #byIp = new Map<string, AddressCount>();
  readonly #bySession = new Map<Session, AddressCount>();
  readonly #pending = new Set<Session>();

  constructor(maxPerIp: number) {
    this.#maxPerIp = maxPerIp;
    this.#maxPendingPerIp = Math.max(1, Math.floor(maxPerIp / 4));
  }

  /** Most connections per address that have not connected yet. */
  get maxPendingPerIp(): number {
    return this.#maxPendingPerIp;
  }

  /** The client address a session was counted under (as admission saw it), if it was. */
  addressOf(session: Session): string | undefined {
    return this.#bySession.get(session)?.ip;
  }

  /** Open connections of an address. */
  openOf(ip: string): number {
    return this.#byIp.get(ip)?.open ?? 0;
  }

  /** Why one more connection from `ip` is refused (`too_many_connections`), or undefined when it may open. */
  refusal(ip: string): SynclineError | undefined {
    const count = this.#byIp.get(ip);
    if (count === undefined) return undefined;
    const retryAfterMs = IP_REFUSED_RETRY_MS + Math.floor(Math.random() * IP_REFUSED_RETRY_MS);
    if (count.open >= this.#maxPerIp) {
      return new SynclineError('too_many_connections', `Too many connections from this address (${this.#maxPerIp}).`, {
        retryAfterMs,
        details: { limit: 'maxConnectionsPerIp', value: this.#maxPerIp },
      });
    }
    if (count.pending >= this.#maxPendingPerIp) {
      return new SynclineError(
        'too_many_connections',
        `Too many connections from this address waiting to connect (${this.#maxPendingPerIp}).`,
        { retryAfterMs, details: { limit: 'maxConnectionsPerIp', value: this.#maxPendingPerIp, beforeConnect: true } },
      );
    }
    return undefined;
  }

  /** Counts an accepted session (not connected yet) under its address. */
  add(session: Session, ip: string): void {
    let count = this.#byIp.get(ip);
    if (count === undefined) {
      count = { ip, open: 0, pending: 0 };
      this.#byIp.set(ip, count);
    }
    count.open += 1;
    count.pending += 1;
    this.#bySession.set(session, count);
    this.#pending.add(session);
  }

  /** The session completed `connect`: it no longer counts against the pre-connect cap. */
  connected(session: Session): void {
    if (!this.#pending.delete(session)) return;
    const count = this.#bySession.get(session);
    if (count !== undefined) count.pending -= 1;
  }

  /** The session closed: its slot is free. Sessions never added are ignored. */
  release(session: Session): void {
    const count = this.#bySession.get(session);
    if (count === undefined) return;
    this.#bySession.delete(session);
    if (this.#pending.delete(session)) count.pending -= 1;
    count.open -= 1;
    if (count.open === 0) this.#byIp.delete(count.ip);
  }
}
