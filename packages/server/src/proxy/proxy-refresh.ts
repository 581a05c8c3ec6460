import { SynclineError } from '@syncline/protocol';
import type { Logger } from 'pino';
import { compileCapabilities, parseCapabilities } from '../auth/capabilities.js';
import type { Principal } from '../auth/token-verifier.js';
import type { ServerCore } from '../core.js';
import { connectionInfo, replacePrincipal } from '../session/connect-commands.js';
import type { Session } from '../session/session.js';
import { defineSlot } from '../session/session-slot.js';
import { type ProxyClient, refusalOf } from './proxy-client.js';

/** Longest stretch before a grant's expiry in which its refresh is planned, ms. */
export const REFRESH_WINDOW_MAX_MS = 60_000;
/** Refresh requests per grant: the first and its retries. */
export const REFRESH_ATTEMPTS = 4;
/** First retry delay after a failed refresh, ms (doubled each time, at most a quarter of the time left). */
export const REFRESH_RETRY_BASE_MS = 1_000;
/**
 * How long past `expiresAt` the deadline sweep waits on a refreshable
 * session, ms: the refresher itself ends it at `expiresAt` (with the code
 * that says why); the sweep is only the backstop.
 */
export const REFRESH_EXPIRY_BACKSTOP_MS = 1_000;
/** Smallest `refreshMinIntervalMs` accepted, ms. */
export const MIN_REFRESH_INTERVAL_MS = 100;

/** How the refresh proxy runs. */
export interface ProxyRefreshOptions {
  readonly url: string;
  readonly client: ProxyClient;
  /** Shortest time between two refreshes of one connection, ms. */
  readonly minIntervalMs: number;
  /** Refresh requests in flight at once from this node; more wait their turn. */
  readonly maxConcurrent: number;
  readonly logger: Logger;
}

/** One connection's refresh state: the grant it tracks and its timers. */
interface RefreshState {
  /** What the backend sees as `data`: the client's connect data, or what the last refresh answer put instead. */
  data: unknown;
  grant: Principal | undefined;
  attempts: number;
  /** The last attempt failed (no answer, an error status, a malformed answer). */
  failing: boolean;
  /** A refresh of the current grant is due and has not succeeded yet (queued, in flight or failing). */
  pending: boolean;
  busy: boolean;
  next: NodeJS.Timeout | undefined;
  expiry: NodeJS.Timeout | undefined;
}

const REFRESH_SLOT = defineSlot<RefreshState>('proxy.refresh', () => ({
  data: null,
  grant: undefined,
  attempts: 0,
  failing: false,
  pending: false,
  busy: false,
  next: undefined,
  expiry: undefined,
}));

function stopTimers(state: RefreshState): void {
  clearTimeout(state.next);
  clearTimeout(state.expiry);
  state.next = undefined;
  state.expiry = undefined;
}

function timer(ms: number, run: () => void): NodeJS.Timeout {
  const t = setTimeout(run, Math.max(0, ms));
  t.unref();
  return t;
}

/**
 * The refresh proxy: a connection the connect proxy granted until
 * `expiresAt` is refreshed by asking the backend's `refresh` URL shortly
 * before then, at a random moment (so connections granted the same expiry
 * do not ask at once) and never sooner than `minIntervalMs` after the
 * previous grant. An answer `{ expiresAt, caps?, data? }` extends the
 * session (features then end what the new capabilities refuse, as after a
 * token refresh); `{ expired: true }` or a refusal ends it with
 * `TOKEN_EXPIRED`. A backend that does not answer is asked again with
 * backoff; still without an answer at `expiresAt`, the session ends with
 * `unavailable` and the retryable `INTERNAL` close. At most `maxConcurrent`
 * refreshes are in flight; the others queue (FIFO), so a stampede of due
 * refreshes waits instead of failing.
 */
export class ProxyRefresher {
  readonly #options: ProxyRefreshOptions;
  readonly #queue: Session[] = [];
  #running = 0;
  #core: Pick<ServerCore, 'sessionEvents'> | undefined;

  constructor(options: ProxyRefreshOptions) {
    this.#options = options;
  }

  /** Follows the node's sessions: plans refreshes of connected ones, stops with closed ones. */
  attach(core: Pick<ServerCore, 'sessionEvents'>): void {
    this.#core = core;
    core.sessionEvents.connected.add((session) => this.#granted(session, Date.now()));
    core.sessionEvents.closed.add((session) => {
      const state = session.peek(REFRESH_SLOT);
      if (state) stopTimers(state);
    });
  }

  /** Keeps the client's connect data of a session authenticated by the connect proxy, for its refreshes. */
  remember(session: Session, data: unknown): void {
    session.slot(REFRESH_SLOT).data = data ?? null;
  }

  /** A grant begins (connect or refresh): plan its refresh and its end. */
  #granted(session: Session, now: number): void {
    const state = session.peek(REFRESH_SLOT);
    const grant = session.principal;
    if (!state || grant?.expiresAt === undefined || session.closed) return;
    stopTimers(state);
    Object.assign(state, { grant, attempts: 0, failing: false, pending: false });
    const expiresAt = grant.expiresAt;
    const window = Math.min((expiresAt - now) / 3, REFRESH_WINDOW_MAX_MS);
    // A random moment in the first half of the window leaves the second half for retries.
    const at = Math.max(expiresAt - window + (Math.random() * window) / 2, now + this.#options.minIntervalMs);
    if (at < expiresAt) state.next = timer(at - now, () => this.#enqueue(session));
    state.expiry = timer(expiresAt - now, () => this.#expire(session, state, grant));
  }

  #current(session: Session, state: RefreshState): boolean {
    return !session.closed && state.grant !== undefined && session.principal === state.grant;
  }

  #enqueue(session: Session): void {
    const state = session.peek(REFRESH_SLOT);
    if (state) state.pending = true;
    this.#queue.push(session);
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.#options.maxConcurrent && this.#queue.length > 0) {
      const session = this.#queue.shift() as Session;
      const state = session.peek(REFRESH_SLOT);
      if (!state || state.busy || !this.#current(session, state)) continue;
      this.#running++;
      state.busy = true;
      this.#refresh(session, state)
        .catch((err: unknown) => this.#options.logger.warn({ err }, 'proxy: refresh failed'))
        .finally(() => {
          state.busy = false;
          this.#running--;
          this.#pump();
        });
    }
  }

  async #refresh(session: Session, state: RefreshState): Promise<void> {
    const grant = state.grant as Principal;
    state.attempts++;
    let answer: Record<string, unknown>;
    try {
      const { session: connection, user, transport, app } = connectionInfo(session);
      answer = await this.#options.client.call(this.#options.url, 'refresh', {
        connection,
        user,
        transport,
        app: app ?? null,
        caps: grant.capabilities,
        data: state.data,
      });
    } catch {
      this.#retry(session, state);
      return;
    }
    if (!this.#current(session, state) || state.grant !== grant) return;
    if (answer.expired === true || answer.error !== undefined) {
      const refusal = answer.error === undefined ? undefined : refusalOf(answer.error, 'refresh');
      const message = refusal?.message ?? 'The session expired.';
      session.fail(new SynclineError('token_expired', message), 'TOKEN_EXPIRED');
      return;
    }
    const next = this.#extended(grant, answer);
    if (next === undefined) {
      this.#options.logger.warn({ answer: Object.keys(answer) }, 'proxy: malformed refresh answer');
      this.#retry(session, state);
      return;
    }
    if (Object.hasOwn(answer, 'data')) state.data = answer.data ?? null;
    replacePrincipal(this.#core as Pick<ServerCore, 'sessionEvents'>, session, next);
    this.#granted(session, Date.now());
  }

  /** The principal a refresh answer grants, or undefined when the answer is malformed. */
  #extended(grant: Principal, answer: Record<string, unknown>): Principal | undefined {
    const expiresAt = answer.expiresAt;
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt) || expiresAt <= Date.now()) return undefined;
    const caps = answer.caps === undefined ? grant.capabilities : parseCapabilities(answer.caps);
    if (caps === undefined) return undefined;
    return {
      ...grant,
      expiresAt,
      issuedAt: Date.now(),
      capabilities: caps,
      can: answer.caps === undefined ? grant.can : compileCapabilities(caps),
    };
  }

  /** Plans another attempt after a failure, if there is time and attempts left before expiry. */
  #retry(session: Session, state: RefreshState): void {
    state.failing = true;
    const expiresAt = state.grant?.expiresAt;
    if (!this.#current(session, state) || expiresAt === undefined || state.attempts >= REFRESH_ATTEMPTS) return;
    const left = expiresAt - Date.now();
    const delay = Math.min(REFRESH_RETRY_BASE_MS * 2 ** (state.attempts - 1), left / 4) * (0.5 + Math.random() / 2);
    if (delay < left) state.next = timer(delay, () => this.#enqueue(session));
  }

  /** The grant ran out unrefreshed: `unavailable` when the backend did not answer, else `TOKEN_EXPIRED`. */
  #expire(session: Session, state: RefreshState, grant: Principal): void {
    if (session.closed || session.principal !== grant) return;
    stopTimers(state);
    if (state.pending) {
      session.fail(
        new SynclineError(
          'unavailable',
          "The app's backend did not answer the refresh request before the session expired; reconnect.",
          { retryAfterMs: 1_000 },
        ),
        'INTERNAL',
      );
    } else session.close('TOKEN_EXPIRED', 'token expired');
  }
}

/** The grant a connect answer carries when the refresher will keep it alive (the sweep waits a little longer). */
export function refreshable(principal: Principal): Principal {
  return principal.expiresAt === undefined ? principal : { ...principal, graceMs: REFRESH_EXPIRY_BACKSTOP_MS };
}
