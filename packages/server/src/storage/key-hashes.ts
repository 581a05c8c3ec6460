/**
 * Idempotency key hashes held in memory over all channels by default (about
 * 37 MB); past this, the least recently used channels' are dropped (and
 * reloaded from their rows on their next keyed publish).
 */
export const MAX_CACHED_KEYS = 1_000_000;

/**
 * A 30-bit hash of an idempotency key (FNV-1a from `basis`, then mixed),
 * small enough that maps hold it unboxed.
 */
export function keyHash(basis: number, key: string): number {
  let h = basis;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16_777_619);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h & 0x3fffffff;
}

/** A channel as its key hashes see it. */
export interface KeyedChannel {
  /** Offset of the channel's newest publication. */
  readonly offset: number;
  /**
   * Hash of an idempotency key → offset of the newest of the channel's
   * publications with a key of that hash, oldest first; undefined until
   * loaded. Every retained keyed publication's hash is in it; it may hold
   * hashes whose rows are gone.
   */
  keys: Map<number, number> | undefined;
}

/**
 * The hashes of the idempotency keys of channels' retained publications,
 * held in memory so that a new key is known to be unused without an index
 * of every key in the database. A hash found is only a candidate: the
 * caller checks it against the row. Bounded over all channels: past the
 * bound, the channels whose keys were used least recently let theirs go.
 */
export class KeyHashes {
  readonly #max: number;
  readonly #basis: number;
  /** Hashes held in the channels' `keys` maps. */
  #count = 0;
  /** The channels holding hashes, least recently used first. */
  readonly #loaded = new Set<KeyedChannel>();

  constructor(max: number, basis: number) {
    this.#max = max;
    this.#basis = basis;
  }

  /** Hashes held now, over all channels. */
  get size(): number {
    return this.#count;
  }

  hash(key: string): number {
    return keyHash(this.#basis, key);
  }

  /** Fills `ch`'s hashes from its keyed rows (oldest first), making room if needed. */
  load(ch: KeyedChannel, rows: Iterable<{ key: string; offset: number }>): void {
    const keys = new Map<number, number>();
    for (const r of rows) {
      const h = this.hash(r.key);
      keys.delete(h);
      keys.set(h, r.offset);
    }
    ch.keys = keys;
    this.#count += keys.size;
    this.#touch(ch);
    this.#cap(ch);
  }

  /** Forgets hash `h` of `ch` (its row is gone). */
  forget(ch: KeyedChannel, h: number): void {
    if (ch.keys?.delete(h)) this.#count--;
  }

  /**
   * Adds hash `h` (of a key, `hash`) for `ch`'s newest publication, dropping
   * hashes that left its last `size` offsets; a channel not loaded yet is
   * loaded (with this key) from its rows on first use.
   */
  remember(ch: KeyedChannel, h: number, size: number): void {
    const keys = ch.keys;
    if (keys === undefined) return;
    const before = keys.size;
    keys.delete(h);
    keys.set(h, ch.offset);
    if (keys.size > 2 * size + 16) {
      // Oldest first (insertion order): hashes at or below the size trim's cut have no row any more.
      const cut = ch.offset - size;
      for (const [k, offset] of keys) {
        if (offset > cut) break;
        keys.delete(k);
      }
    }
    this.#count += keys.size - before;
    this.#touch(ch);
    this.#cap(ch);
  }

  /** Every channel's hashes were dropped with them. */
  reset(): void {
    this.#loaded.clear();
    this.#count = 0;
  }

  /** Marks `ch` as the most recently used. */
  #touch(ch: KeyedChannel): void {
    this.#loaded.delete(ch);
    this.#loaded.add(ch);
  }

  /** Drops the least recently used channels' hashes while past the cap, never those of `current` (in use). */
  #cap(current: KeyedChannel): void {
    for (const ch of this.#loaded) {
      if (this.#count <= this.#max) return;
      if (ch === current) continue;
      this.#count -= ch.keys?.size ?? 0;
      ch.keys = undefined;
      this.#loaded.delete(ch);
    }
  }
}
