import {
  type CommandInput,
  type RequestType,
  type ResultOf,
  type SynclineError,
  toSynclineError,
} from '@syncline/protocol';

/** Shortest wait before an in-band token refresh. */
const MIN_REFRESH_DELAY_MS = 1_000;

/** Wait before trying a failed in-band refresh again. */
const REFRESH_RETRY_MS = 5_000;

/** Longest delay `setTimeout` accepts. */
const MAX_TIMER_MS = 2_147_483_647;

/** What the token keeper needs from the client. */
export interface TokenHost {
  /** True while the connection is accepted. */
  readonly connected: boolean;
  /** Sends a command (`refresh`) and resolves with the result of its reply. */
  request<K extends RequestType>(command: CommandInput<K>): Promise<ResultOf<K>>;
  /** Reports a refresh failure (nobody else awaits it). */
  emitError(err: SynclineError): void;
}

/**
 * The connection token: the one to send with `connect`, fetched again from
 * `getToken` when missing or refused, and refreshed in band ahead of its
 * expiry while connected.
 */
export class TokenKeeper {
  readonly #getToken: (() => Promise<string>) | undefined;
  readonly #host: TokenHost;
  #token: string | undefined;
  #stale = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(token: string | undefined, getToken: (() => Promise<string>) | undefined, host: TokenHost) {
    this.#token = token;
    this.#getToken = getToken;
    this.#host = host;
  }

  /** The token to present, if any. */
  get token(): string | undefined {
    return this.#token;
  }

  /** True when `getToken` can replace a refused token. */
  get renewable(): boolean {
    return this.#getToken !== undefined;
  }

  /** The server refused the token: fetch a new one before the next connect. */
  markStale(): void {
    this.#stale = true;
  }

  /** Fetches a token when none is known or the last one was refused; rejects when `getToken` fails. */
  async ensure(): Promise<void> {
    if ((this.#token === undefined || this.#stale) && this.#getToken) {
      this.#token = await this.#getToken();
      this.#stale = false;
    }
  }

  /** Plans the in-band refresh for a token expiring at `expiresAt` (ms since the epoch). */
  schedule(expiresAt: number | undefined): void {
    this.cancel();
    if (expiresAt === undefined || !this.#getToken) return;
    const lifetime = expiresAt - Date.now();
    // Ahead of expiry by 20% of the lifetime (2 s to 60 s, at most half of it);
    // never sooner than 1 s, so short-lived tokens cannot cause a refresh storm.
    const margin = Math.min(Math.max(2_000, Math.min(60_000, lifetime * 0.2)), lifetime / 2);
    const delay = Math.max(MIN_REFRESH_DELAY_MS, lifetime - margin);
    this.#timer = setTimeout(() => void this.#refresh(), Math.min(delay, MAX_TIMER_MS));
  }

  /** Cancels the planned refresh. */
  cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #refresh(): Promise<void> {
    if (!this.#host.connected || !this.#getToken) return;
    try {
      const token = await this.#getToken();
      this.#token = token;
      const result = await this.#host.request({ type: 'refresh', token });
      this.schedule(result.expiresAt);
    } catch (err) {
      this.#host.emitError(toSynclineError(err));
      // Try again shortly; the server closes with TOKEN_EXPIRED if it runs out.
      if (this.#host.connected) this.#timer = setTimeout(() => void this.#refresh(), REFRESH_RETRY_MS);
    }
  }
}
