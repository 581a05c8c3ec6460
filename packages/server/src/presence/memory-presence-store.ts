import type { PresenceEntry } from '@syncline/protocol';
import { type PresenceEnterLimits, presenceLimitExceeded } from './presence-limits.js';
import type {
  PresenceChange,
  PresenceFanout,
  PresenceOwner,
  PresenceSnapshot,
  PresenceStore,
  StoredPresenceEntry,
} from './presence-store.js';

interface ChannelSet {
  readonly entries: Map<string, StoredPresenceEntry>;
  /** Entries per user. */
  readonly perUser: Map<string, number>;
}

function keyOf(user: string, clientId: string): string {
  return `${user}\u0000${clientId}`;
}

function publicEntry(e: StoredPresenceEntry): PresenceEntry {
  const { owner: _owner, ...rest } = e;
  return rest;
}

/** The embedded presence store: everything in this process's memory. */
export class MemoryPresenceStore implements PresenceStore {
  readonly #channels = new Map<string, ChannelSet>();
  readonly #nodes = new Map<string, number>();
  /** One counter for every channel, so a channel's seq never goes back even after its set was forgotten. */
  #seq = 0;

  #set(channel: string): ChannelSet {
    let set = this.#channels.get(channel);
    if (!set) {
      set = { entries: new Map(), perUser: new Map() };
      this.#channels.set(channel, set);
    }
    return set;
  }

  async enter(
    channel: string,
    entry: PresenceEntry,
    owner: PresenceOwner,
    limits?: PresenceEnterLimits,
  ): Promise<PresenceChange> {
    const key = keyOf(entry.user, entry.clientId);
    const prior = this.#channels.get(channel)?.entries.get(key);
    if (!prior) this.#admit(channel, entry.user, limits);
    const set = this.#set(channel);
    if (!prior) set.perUser.set(entry.user, (set.perUser.get(entry.user) ?? 0) + 1);
    const stored: StoredPresenceEntry = prior ? { ...entry, enteredAt: prior.enteredAt, owner } : { ...entry, owner };
    set.entries.set(key, stored);
    this.#seq += 1;
    return { channel, seq: this.#seq, action: prior ? 'update' : 'join', entry: publicEntry(stored) };
  }

  /** Throws `limit_exceeded` when a new entry of `user` would pass `limits`. */
  #admit(channel: string, user: string, limits: PresenceEnterLimits | undefined): void {
    if (!limits) return;
    const set = this.#channels.get(channel);
    if ((set?.entries.size ?? 0) >= limits.maxEntries) throw presenceLimitExceeded('maxMembers', limits.maxEntries);
    if ((set?.perUser.get(user) ?? 0) >= limits.maxPerUser) {
      throw presenceLimitExceeded('presenceEntriesPerUser', limits.maxPerUser);
    }
  }

  async update(
    channel: string,
    user: string,
    clientId: string,
    state: unknown,
    now: number,
  ): Promise<PresenceChange | undefined> {
    const set = this.#channels.get(channel);
    const prior = set?.entries.get(keyOf(user, clientId));
    if (!set || !prior) return undefined;
    const stored: StoredPresenceEntry = { ...prior, state, updatedAt: now };
    set.entries.set(keyOf(user, clientId), stored);
    this.#seq += 1;
    return { channel, seq: this.#seq, action: 'update', entry: publicEntry(stored) };
  }

  async leave(
    channel: string,
    user: string,
    clientId: string,
    onlyOwner?: PresenceOwner,
  ): Promise<PresenceChange | undefined> {
    const set = this.#channels.get(channel);
    const key = keyOf(user, clientId);
    const prior = set?.entries.get(key);
    if (!set || !prior) return undefined;
    if (onlyOwner && (prior.owner.node !== onlyOwner.node || prior.owner.session !== onlyOwner.session)) {
      return undefined;
    }
    set.entries.delete(key);
    const left = (set.perUser.get(user) ?? 1) - 1;
    if (left > 0) set.perUser.set(user, left);
    else set.perUser.delete(user);
    this.#seq += 1;
    const change: PresenceChange = { channel, seq: this.#seq, action: 'leave', entry: publicEntry(prior) };
    if (set.entries.size === 0) this.#channels.delete(channel);
    return change;
  }

  async list(channel: string): Promise<PresenceSnapshot> {
    const set = this.#channels.get(channel);
    if (!set) return { seq: this.#seq, entries: [] };
    return { seq: this.#seq, entries: [...set.entries.values()].map(publicEntry) };
  }

  async channels(): Promise<ReadonlyMap<string, number>> {
    const out = new Map<string, number>();
    for (const [name, set] of this.#channels) out.set(name, set.entries.size);
    return out;
  }

  async heartbeat(node: string, now: number): Promise<void> {
    this.#nodes.set(node, now);
  }

  async expire(now: number, nodeTtlMs: number): Promise<PresenceChange[]> {
    const dead = new Set<string>();
    for (const [node, at] of this.#nodes) if (now - at > nodeTtlMs) dead.add(node);
    if (dead.size === 0) return [];
    const out: PresenceChange[] = [];
    for (const [channel, set] of [...this.#channels]) {
      for (const e of [...set.entries.values()]) {
        if (!dead.has(e.owner.node)) continue;
        const change = await this.leave(channel, e.user, e.clientId);
        if (change) out.push(change);
      }
    }
    for (const node of dead) this.#nodes.delete(node);
    return out;
  }

  async close(): Promise<void> {
    this.#channels.clear();
    this.#nodes.clear();
  }
}

/** The embedded fan-out: changes go straight to this node's listener of the channel. */
export class LocalPresenceFanout implements PresenceFanout {
  readonly #listeners = new Map<string, (change: PresenceChange) => void>();

  publish(change: PresenceChange): void {
    this.#listeners.get(change.channel)?.(change);
  }

  async subscribe(channel: string, listener: (change: PresenceChange) => void): Promise<void> {
    this.#listeners.set(channel, listener);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.#listeners.delete(channel);
  }
}
