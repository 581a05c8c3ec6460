import type { PresenceDiffMessage, PresenceEntry, PresenceStateMessage } from '@syncline/protocol';
import { Emitter } from '../emitter.js';

/** What the members list takes from a `presence.diff`. */
type PresenceDiff = Pick<PresenceDiffMessage, 'seq' | 'action' | 'entry'>;

/**
 * One user in a channel's presence set; a user on several connections is one
 * member. `S` is the namespace's presence state type (`unknown` untyped).
 */
export interface PresenceMember<S = unknown> {
  readonly user: string;
  /** The `info` claim of the user's token (name, avatar), when it has one. */
  readonly info?: unknown;
  /** State of the member's most recently updated entry. */
  readonly state: S;
  /** One entry per connection (client) of the user, oldest first. */
  readonly entries: readonly PresenceEntry[];
}

/** A member-level change. */
export interface PresenceMemberEvent<S = unknown> {
  readonly member: PresenceMember<S>;
  /** The entry that changed (for `update`, and the last entry for `join`/`leave`). */
  readonly entry: PresenceEntry;
}

/** Events of a channel's member list. */
export interface PresenceMembersEvents<S = unknown> {
  /** A user appeared (their first entry). */
  join: PresenceMemberEvent<S>;
  /** A user's entry changed state, or the user gained or lost one of several entries. */
  update: PresenceMemberEvent<S>;
  /** A user is gone (their last entry left). */
  leave: PresenceMemberEvent<S>;
  /** The full list arrived (after watching, after every reconnect, and when the server resynchronises the watch). */
  sync: readonly PresenceMember<S>[];
  /** `current` changed. */
  change: readonly PresenceMember<S>[];
}

/** Diffs remembered since the last list. */
const MAX_APPLIED = 256;

function buildMember(user: string, entries: Map<string, PresenceEntry>): PresenceMember {
  const list = [...entries.values()].sort((a, b) => a.enteredAt - b.enteredAt || (a.clientId < b.clientId ? -1 : 1));
  let latest = list[0] as PresenceEntry;
  for (const e of list) if (e.updatedAt >= latest.updatedAt) latest = e;
  const info = list.find((e) => e.info !== undefined)?.info;
  return info === undefined
    ? { user, state: latest.state, entries: list }
    : { user, info, state: latest.state, entries: list };
}

/** A list arriving in parts (`presence.state` with `part`), gathered until its last part. */
interface PartialList {
  readonly seq: number;
  readonly entries: PresenceEntry[];
  nextPart: number;
}

/**
 * A channel's presence set on the client: the full list (`presence.state`)
 * first, then diffs in `seq` order. A list sent in parts is gathered and
 * applied once its last part arrived. Diffs that arrive before the list (or
 * before the fresh list after a reconnect, or while its parts arrive) are
 * buffered and applied on top of it; those already included in it (`seq` at
 * or below the list's) are dropped. Exposes `current` + `subscribe` for UI
 * bindings.
 */
export class PresenceMembers<S = unknown> {
  readonly #events = new Emitter<PresenceMembersEvents>();
  readonly #byUser = new Map<string, Map<string, PresenceEntry>>();
  #members = new Map<string, PresenceMember>();
  #current: readonly PresenceMember[] = [];
  #seq = -1;
  #synced = false;
  #buffer: PresenceDiff[] = [];
  /** The list being gathered from its parts, if one is. */
  #partial: PartialList | undefined;
  /** Diffs applied since the last list (bounded): re-applied when a list older than them arrives. */
  #applied: PresenceDiff[] = [];

  /** The members, sorted by user id (a new array after every change). */
  get current(): readonly PresenceMember<S>[] {
    // The server checked every state against the namespace's schema: it is an `S`.
    return this.#current as readonly PresenceMember<S>[];
  }

  /** True once the full list arrived on the current connection. */
  get synced(): boolean {
    return this.#synced;
  }

  /** The member of a user, if present. */
  get(user: string): PresenceMember<S> | undefined {
    return this.#members.get(user) as PresenceMember<S> | undefined;
  }

  /** Calls `listener` whenever `current` changes; returns the remover. */
  subscribe(listener: (members: readonly PresenceMember<S>[]) => void): () => void {
    return this.#events.on('change', listener as (members: readonly PresenceMember[]) => void);
  }

  /** Adds an event listener; returns the remover. */
  on<K extends keyof PresenceMembersEvents<S>>(
    event: K,
    listener: (p: PresenceMembersEvents<S>[K]) => void,
  ): () => void {
    return this.#events.on(event, listener as (p: PresenceMembersEvents[K]) => void);
  }

  /** @internal A fresh list is coming (watch or re-watch after a reconnect): buffer diffs until it arrives. */
  resync(): void {
    this.#synced = false;
    this.#buffer = [];
    this.#partial = undefined;
  }

  /**
   * @internal The full list: on a new watch, after a reconnect, or on a live
   * watch when the server resynchronises it (its node may have missed diffs).
   * Replaces the set, emits `join`/`update`/`leave` once per member that
   * differs from the previous list (none for unchanged members), then `sync`;
   * later diffs at or below its `seq` are ignored. A part of a split list
   * (`part` set) is gathered; the list applies with its last part (no `more`).
   */
  applyState(msg: Pick<PresenceStateMessage, 'seq' | 'entries' | 'more' | 'part'>): void {
    if (msg.part !== undefined) {
      const whole = this.#gather(msg.seq, msg.part, msg.entries, msg.more === true);
      if (whole) this.#applyList(msg.seq, whole);
      return;
    }
    this.#partial = undefined;
    this.#applyList(msg.seq, msg.entries);
  }

  /** Adds a part to the list being gathered; returns the whole list with its last part. */
  #gather(seq: number, part: number, entries: readonly PresenceEntry[], more: boolean): PresenceEntry[] | undefined {
    if (part === 0) {
      this.#partial = { seq, entries: [], nextPart: 0 };
    }
    const partial = this.#partial;
    // A part of a list whose start was dropped (a newer list began): the server sends a whole new one.
    if (!partial || partial.seq !== seq || partial.nextPart !== part) return undefined;
    for (const e of entries) partial.entries.push(e);
    partial.nextPart += 1;
    if (more) return undefined;
    this.#partial = undefined;
    return partial.entries;
  }

  #applyList(seq: number, entries: readonly PresenceEntry[]): void {
    const before = this.#members;
    // On a live watch, diffs newer than this list may already be applied
    // (rare: a list read while they travelled); they apply again on top.
    const newer = this.#synced ? this.#applied.filter((d) => d.seq > seq) : [];
    this.#byUser.clear();
    this.#applied = [];
    for (const e of entries) this.#put(e);
    this.#seq = seq;
    this.#synced = true;
    const buffered = this.#buffer;
    this.#buffer = [];
    for (const d of [...newer, ...buffered].sort((a, b) => a.seq - b.seq)) {
      if (d.seq > this.#seq) this.#applyDiff(d);
    }
    this.#rebuild(before, undefined);
    this.#events.emit('sync', this.#current);
  }

  /** @internal One diff. */
  applyDiff(msg: PresenceDiff): void {
    if (!this.#synced || this.#partial) {
      this.#buffer.push(msg);
      return;
    }
    if (msg.seq <= this.#seq) return;
    const before = this.#members;
    this.#applyDiff(msg);
    this.#rebuild(before, msg.entry);
  }

  /** @internal Forget everything (the watch ended). */
  clear(): void {
    const before = this.#members;
    this.#byUser.clear();
    this.#synced = false;
    this.#buffer = [];
    this.#partial = undefined;
    this.#applied = [];
    this.#rebuild(before, undefined);
  }

  #put(e: PresenceEntry): void {
    let m = this.#byUser.get(e.user);
    if (!m) {
      m = new Map();
      this.#byUser.set(e.user, m);
    }
    m.set(e.clientId, e);
  }

  #applyDiff(msg: PresenceDiff): void {
    this.#seq = Math.max(this.#seq, msg.seq);
    this.#applied.push(msg);
    if (this.#applied.length > MAX_APPLIED) this.#applied.shift();
    if (msg.action === 'leave') {
      const m = this.#byUser.get(msg.entry.user);
      m?.delete(msg.entry.clientId);
      if (m?.size === 0) this.#byUser.delete(msg.entry.user);
    } else {
      this.#put(msg.entry);
    }
  }

  /** Recomputes members and emits member-level events against `before`. */
  #rebuild(before: Map<string, PresenceMember>, changed: PresenceEntry | undefined): void {
    const after = new Map<string, PresenceMember>();
    for (const user of [...this.#byUser.keys()].sort()) {
      after.set(user, buildMember(user, this.#byUser.get(user) as Map<string, PresenceEntry>));
    }
    let any = false;
    for (const [user, m] of after) {
      const old = before.get(user);
      if (!old) {
        any = true;
        this.#events.emit('join', { member: m, entry: changed ?? (m.entries[m.entries.length - 1] as PresenceEntry) });
      } else if (!sameMember(old, m)) {
        any = true;
        const entry = changed?.user === user ? changed : (m.entries.find((e) => !hasSameEntry(old, e)) ?? m.entries[0]);
        this.#events.emit('update', { member: m, entry: entry as PresenceEntry });
      }
    }
    for (const [user, old] of before) {
      if (after.has(user)) continue;
      any = true;
      this.#events.emit('leave', {
        member: old,
        entry: changed?.user === user ? changed : (old.entries[old.entries.length - 1] as PresenceEntry),
      });
    }
    this.#members = after;
    if (any) {
      this.#current = [...after.values()];
      this.#events.emit('change', this.#current);
    }
  }
}

/** True when `member` has an entry of the same client with the same state (a fresh list brings new objects). */
function hasSameEntry(member: PresenceMember, e: PresenceEntry): boolean {
  return member.entries.some(
    (x) => x === e || (x.clientId === e.clientId && JSON.stringify(x.state) === JSON.stringify(e.state)),
  );
}

function sameMember(a: PresenceMember, b: PresenceMember): boolean {
  if (a.entries.length !== b.entries.length) return false;
  for (let i = 0; i < a.entries.length; i++) {
    const x = a.entries[i] as PresenceEntry;
    const y = b.entries[i] as PresenceEntry;
    if (x.clientId !== y.clientId || JSON.stringify(x.state) !== JSON.stringify(y.state)) return false;
    if (JSON.stringify(x.info) !== JSON.stringify(y.info)) return false;
  }
  return true;
}
