import type { AppUpdateInfo, UpdateStatus } from '@syncline/protocol';
import type { StorageLike } from '../transport/fallback.js';

/** Default `reloadGuardMs`: at most one reload request per target version every 5 minutes. */
export const DEFAULT_RELOAD_GUARD_MS = 5 * 60_000;

/** The client's view of its app version (`client.update`, `update` event). */
export interface AppUpdate {
  /** `none` (current, or the server judges no versions), `available` or `required`. */
  readonly status: UpdateStatus;
  /** The server's app version: what a reload should bring. */
  readonly version?: string;
  /** Text for the user, from the server's configuration. */
  readonly message?: string;
  readonly minClientVersion?: string;
  readonly recommendedClientVersion?: string;
  /**
   * True when the UI should ask for (or perform) a reload now. False when
   * the status is `none`, or when a reload towards this same version was
   * already asked within `reloadGuardMs` (the reload did not bring the new
   * version: the UI should say so rather than reload again, avoiding loops).
   */
  readonly reload: boolean;
}

/** Options of the reload-loop guard. */
export interface ReloadGuardOptions {
  /** Ask for a reload towards the same version at most once per this interval (default 5 min). */
  readonly reloadGuardMs?: number;
  /**
   * Where "reload towards version X asked at time T" is kept across reloads
   * (default `sessionStorage` in browsers, process memory elsewhere).
   */
  readonly reloadGuardStorage?: StorageLike;
}

const NONE: AppUpdate = { status: 'none', reload: false };
const KEY_PREFIX = 'syncline:reload:';

const memory = new Map<string, string>();
/** Process-wide memory storage: the guard's default outside browsers. */
export const memoryReloadStorage: StorageLike = {
  getItem: (k) => memory.get(k) ?? null,
  setItem: (k, v) => {
    memory.set(k, v);
  },
  removeItem: (k) => {
    memory.delete(k);
  },
};

function defaultStorage(): StorageLike {
  try {
    const s = (globalThis as { sessionStorage?: StorageLike }).sessionStorage;
    if (s) return s;
  } catch {
    // Storage access can throw (privacy settings): fall back to memory.
  }
  return memoryReloadStorage;
}

function sameInfo(a: AppUpdate, b: AppUpdateInfo): boolean {
  return (
    a.status === b.status &&
    a.version === b.version &&
    a.message === b.message &&
    a.minClientVersion === b.minClientVersion &&
    a.recommendedClientVersion === b.recommendedClientVersion
  );
}

/**
 * Tracks the server's verdict on this client's app version and decides,
 * with the reload-loop guard, whether the UI should ask for a reload.
 */
export class AppUpdateTracker {
  readonly #guardMs: number;
  readonly #storage: StorageLike;
  readonly #emit: (update: AppUpdate) => void;
  /** Target versions this tracker (this page load) asked a reload for: it has not reloaded since. */
  readonly #asked = new Set<string>();
  #current: AppUpdate = NONE;

  constructor(options: ReloadGuardOptions, emit: (update: AppUpdate) => void) {
    this.#guardMs = options.reloadGuardMs ?? DEFAULT_RELOAD_GUARD_MS;
    this.#storage = options.reloadGuardStorage ?? defaultStorage();
    this.#emit = emit;
  }

  /** The last verdict (a new object on every change). */
  get current(): AppUpdate {
    return this.#current;
  }

  /** Takes a verdict from a connect reply (undefined: the server sent none) or an `update` push. */
  apply(info: AppUpdateInfo | undefined): void {
    const next = info ?? { status: 'none' as const };
    if (sameInfo(this.#current, next)) return;
    const update: { -readonly [K in keyof AppUpdate]: AppUpdate[K] } = {
      status: next.status,
      reload: next.status !== 'none' && this.#mayAskReload(next.version),
    };
    if (next.version !== undefined) update.version = next.version;
    if (next.message !== undefined) update.message = next.message;
    if (next.minClientVersion !== undefined) update.minClientVersion = next.minClientVersion;
    if (next.recommendedClientVersion !== undefined) update.recommendedClientVersion = next.recommendedClientVersion;
    this.#current = update;
    this.#emit(update);
  }

  /**
   * True (and remembered) unless an earlier page load asked for a reload
   * towards `version` within the guard interval. A request this page load
   * made itself still stands (e.g. `available` then `required` for the same
   * version): no reload has happened yet, so none has failed.
   */
  #mayAskReload(version: string | undefined): boolean {
    const key = KEY_PREFIX + (version ?? '?');
    if (this.#asked.has(key)) return true;
    const now = Date.now();
    try {
      const last = Number(this.#storage.getItem(key));
      if (Number.isFinite(last) && last > 0 && now - last < this.#guardMs) return false;
      this.#storage.setItem(key, String(now));
      this.#asked.add(key);
    } catch {
      // Unusable storage: ask, but the guard cannot hold across reloads.
    }
    return true;
  }
}
