import { createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the signature header of webhook requests. */
export const WEBHOOK_SIGNATURE_HEADER = 'Syncline-Signature';

/** Default largest age of a signature `verifyWebhookSignature` accepts, seconds. */
export const WEBHOOK_SIGNATURE_TOLERANCE_S = 300;

function hmacHex(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The `Syncline-Signature` value of a body: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
export function signWebhookBody(secret: string, body: string, timestampS: number): string {
  return `t=${timestampS},v1=${hmacHex(secret, timestampS, body)}`;
}

/** Options of `verifyWebhookSignature`. */
export interface VerifyWebhookOptions {
  /** The raw request body, exactly as received (before parsing). */
  readonly body: string | Uint8Array;
  /** The `Syncline-Signature` header (undefined when missing). */
  readonly header: string | string[] | undefined;
  /** The entry's `secret`. */
  readonly secret: string;
  /** Largest accepted age (and clock skew) of the timestamp, seconds (default 300). */
  readonly toleranceS?: number;
  /** The current time, ms (default `Date.now()`). */
  readonly now?: number;
}

/**
 * True when a webhook request is authentic: the header's `v1` is the
 * HMAC-SHA256 of `"<t>.<body>"` under `secret` (compared in constant time;
 * any of several `v1` values may match) and `t` is within `toleranceS` of
 * now, so a captured request cannot be replayed later. Pass the raw body:
 * a re-serialized JSON body does not verify.
 */
export function verifyWebhookSignature(options: VerifyWebhookOptions): boolean {
  const header = Array.isArray(options.header) ? options.header[0] : options.header;
  if (typeof header !== 'string' || header.length > 4_096) return false;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  const nowS = (options.now ?? Date.now()) / 1_000;
  if (Math.abs(nowS - timestamp) > (options.toleranceS ?? WEBHOOK_SIGNATURE_TOLERANCE_S)) return false;
  const body = typeof options.body === 'string' ? options.body : Buffer.from(options.body).toString('utf8');
  const expected = Buffer.from(hmacHex(options.secret, timestamp, body), 'hex');
  return signatures.some((s) => timingSafeEqual(Buffer.from(s, 'hex'), expected));
}
