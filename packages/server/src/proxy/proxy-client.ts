import { type ErrorCode, SynclineError } from '@syncline/protocol';
import type { Logger } from 'pino';
import { SIGNATURE_HEADER, signatureHeader } from '../auth/request-signature.js';

/** Largest answer read from the backend, bytes. */
export const MAX_PROXY_ANSWER_BYTES = 1024 * 1024;

/** Codes a backend may refuse with; any other refusal is `forbidden`. */
const REFUSAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'forbidden',
  'unauthorized',
  'token_expired',
  'invalid_data',
  'invalid_args',
  'rate_limited',
  'not_found',
  'limit_exceeded',
]);

/** Longest refusal message passed on to the client, characters. */
const MAX_MESSAGE = 300;

/** How proxy requests are made. */
export interface ProxyClientOptions {
  /** Longest wait for an answer, ms. */
  readonly timeoutMs: number;
  /** Extra headers on every request (an API key of the backend …). */
  readonly headers: Readonly<Record<string, string>>;
  /** Signs every request (`Syncline-Signature`) when set. */
  readonly secret: string | undefined;
  /** Requests in flight at once from this node; past it, calls are refused `unavailable` at once. */
  readonly maxInFlight: number;
  readonly logger: Logger;
}

function unavailable(what: string, cause?: unknown): SynclineError {
  return new SynclineError('unavailable', `The app's backend did not answer the ${what} request; try again.`, {
    retryAfterMs: 1_000,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The error a backend's `{ error: { code?, message? } }` refusal becomes. */
export function refusalOf(raw: unknown, what: string): SynclineError {
  const e = typeof raw === 'object' && raw !== null ? (raw as { code?: unknown; message?: unknown }) : {};
  const code =
    typeof e.code === 'string' && REFUSAL_CODES.has(e.code as ErrorCode) ? (e.code as ErrorCode) : 'forbidden';
  const message =
    typeof e.message === 'string' && e.message.length > 0
      ? e.message.slice(0, MAX_MESSAGE)
      : `The ${what} was refused.`;
  return new SynclineError(code, message);
}

/**
 * Calls the app's backend: a signed JSON POST with a deadline, at most
 * `maxInFlight` at once per node. Resolves with the answer's JSON object;
 * a backend that does not answer in time, answers non-2xx, too much or not
 * a JSON object rejects with `unavailable` (`retryAfterMs`), so a hanging
 * backend costs clients a quick, retryable error and the node nothing.
 */
export class ProxyClient {
  readonly #options: ProxyClientOptions;
  #inFlight = 0;

  constructor(options: ProxyClientOptions) {
    this.#options = options;
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  async call(url: string, what: string, payload: unknown): Promise<Record<string, unknown>> {
    if (this.#inFlight >= this.#options.maxInFlight) throw unavailable(what);
    this.#inFlight++;
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { ...this.#options.headers, 'content-type': 'application/json' };
    if (this.#options.secret !== undefined) headers[SIGNATURE_HEADER] = signatureHeader(this.#options.secret, body);
    try {
      const res = await fetch(url, {
        method: 'POST',
        body,
        headers,
        signal: AbortSignal.timeout(this.#options.timeoutMs),
        redirect: 'error',
      });
      const text = await readLimited(res, MAX_PROXY_ANSWER_BYTES);
      if (!res.ok) {
        this.#options.logger.warn({ url, status: res.status, what }, 'proxy: the backend answered an error status');
        throw unavailable(what);
      }
      let answer: unknown;
      try {
        answer = JSON.parse(text);
      } catch {
        answer = undefined;
      }
      if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
        this.#options.logger.warn({ url, what }, 'proxy: the backend answered something else than a JSON object');
        throw unavailable(what);
      }
      return answer as Record<string, unknown>;
    } catch (err) {
      if (err instanceof SynclineError) throw err;
      this.#options.logger.warn({ err, url, what }, 'proxy: the backend did not answer');
      throw unavailable(what, err);
    } finally {
      this.#inFlight--;
    }
  }
}

/** The body of a response, refusing (and cancelling) one past `max` bytes. */
async function readLimited(res: Response, max: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`The answer is larger than ${max} bytes.`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
