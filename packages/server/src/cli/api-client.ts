import { resolve } from 'node:path';
import { readDevCredentials } from './dev-credentials.js';
import { API_TIMEOUT_MS, MAX_RESPONSE_BYTES } from './inspect-limits.js';

/** Node the inspect commands call when neither `--url` nor `SYNCLINE_URL` names one. */
export const DEFAULT_API_URL = 'http://127.0.0.1:8787';

/** Where the inspect commands send their calls, and with which key. */
export interface ApiTarget {
  /** Base URL without a trailing slash. */
  readonly url: string;
  readonly key: string;
}

/** Flags naming the node and the key. */
export interface ApiTargetFlags {
  readonly url?: string | undefined;
  readonly key?: string | undefined;
  readonly data?: string | undefined;
}

/** An error answer of the HTTP API (or a failure to reach it). */
export class ApiCallError extends Error {
  /** The API's error code (`unreachable`, `bad_response` when there was no API answer). */
  readonly code: string;
  /** HTTP status, 0 when there was no answer. */
  readonly status: number;

  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = 'ApiCallError';
    this.code = code;
    this.status = status;
  }
}

/**
 * The node and key of an inspect command: `--url`, else `SYNCLINE_URL`, else
 * {@link DEFAULT_API_URL}; `--key`, else `SYNCLINE_API_KEY`, else the dev key
 * kept in the data folder (`--data`, else `SYNCLINE_DATA`, else `./data`),
 * which is read and never created. Throws a readable error when no key is found
 * or the URL is not http(s).
 */
export function resolveApiTarget(flags: ApiTargetFlags, env: NodeJS.ProcessEnv): ApiTarget {
  const raw = flags.url ?? env.SYNCLINE_URL ?? DEFAULT_API_URL;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new Error(`bad --url "${raw}": expected http://HOST:PORT`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`bad --url "${raw}": expected http:// or https://`);
  }
  const dataDir = resolve(flags.data ?? env.SYNCLINE_DATA ?? './data');
  const key = flags.key ?? env.SYNCLINE_API_KEY ?? readDevCredentials(dataDir)?.apiKey;
  if (!key) {
    throw new Error(
      `no API key: pass --key, set SYNCLINE_API_KEY, or point --data at the data folder of a dev node (${dataDir} has no dev key).`,
    );
  }
  return { url: parsed.href.replace(/\/+$/, ''), key };
}

/** Hosts that only this machine reaches. */
const LOOPBACK_HOSTNAMES: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** A warning when the key would cross the network unencrypted (plain http to another machine), else undefined. */
export function plainTextKeyWarning(target: ApiTarget): string | undefined {
  const u = new URL(target.url);
  if (u.protocol === 'https:' || LOOPBACK_HOSTNAMES.has(u.hostname)) return undefined;
  return `warning: the API key goes to ${u.host} over plain http; use https:// for a node on another machine.`;
}

/** Reads a response body, refusing one larger than `maxBytes`. */
async function readBounded(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new ApiCallError('bad_response', `The answer is over ${maxBytes} bytes.`, res.status);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new ApiCallError('bad_response', `The answer is over ${maxBytes} bytes.`, res.status);
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Calls the HTTP API and returns its JSON answer. Throws {@link ApiCallError}
 * with the API's code and message on an error answer, `unreachable` when the
 * node cannot be reached within {@link API_TIMEOUT_MS}, `bad_response` when the
 * answer is not the API's JSON or is over {@link MAX_RESPONSE_BYTES}.
 */
export async function callApi(target: ApiTarget, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) {
  let res: Response;
  try {
    res = await fetch(`${target.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      redirect: 'error',
      signal: AbortSignal.timeout(API_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new ApiCallError('unreachable', `Cannot reach ${target.url}: ${cause}`, 0);
  }
  const text = await readBounded(res, MAX_RESPONSE_BYTES);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiCallError('bad_response', `HTTP ${res.status} from ${target.url}${path} is not JSON.`, res.status);
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    if (typeof e?.code === 'string') {
      throw new ApiCallError(e.code, typeof e.message === 'string' ? e.message : '', res.status);
    }
    throw new ApiCallError('bad_response', `HTTP ${res.status} without an API error.`, res.status);
  }
  return json;
}
