import { signatureHeader, verifySignature } from '../auth/request-signature.js';

/** Name of the signature header of webhook requests. */
export const WEBHOOK_SIGNATURE_HEADER = 'Syncline-Signature';

/** Default largest age of a signature `verifyWebhookSignature` accepts, seconds. */
export const WEBHOOK_SIGNATURE_TOLERANCE_S = 300;

/** The `Syncline-Signature` value of a body: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
export function signWebhookBody(secret: string, body: string, timestampS: number): string {
  return signatureHeader(secret, body, timestampS * 1_000);
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
  const body = typeof options.body === 'string' ? options.body : Buffer.from(options.body).toString('utf8');
  return verifySignature(options.secret, header, body, {
    toleranceSec: options.toleranceS ?? WEBHOOK_SIGNATURE_TOLERANCE_S,
    ...(options.now === undefined ? {} : { nowMs: options.now }),
  });
}
