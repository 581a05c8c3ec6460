import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying the signature of a request Syncline sends to the app's backend. */
export const SIGNATURE_HEADER = 'syncline-signature';

/** Default age past which `verifySignature` refuses a signature, seconds. */
export const SIGNATURE_TOLERANCE_SEC = 300;

function hmacHex(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * The `Syncline-Signature` value of a body: `t=<unix seconds>,v1=<hex
 * HMAC-SHA256 of "t.body" with the secret>`, as webhooks and proxy requests
 * carry it.
 */
export function signatureHeader(secret: string, body: string, nowMs: number = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${hmacHex(secret, t, body)}`;
}

/**
 * Checks a `Syncline-Signature` header against the raw body: true when one
 * `v1` matches and `t` is within `toleranceSec` of now (refusing replays of
 * old requests). Compares in constant time.
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  options: { toleranceSec?: number; nowMs?: number } = {},
): boolean {
  if (!header || header.length > 4_096) return false;
  let t: number | undefined;
  const sigs: string[] = [];
  for (const part of header.split(',')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === 't' && v !== undefined && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && v !== undefined && /^[0-9a-f]{64}$/.test(v)) sigs.push(v);
  }
  if (t === undefined || sigs.length === 0) return false;
  const now = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (Math.abs(now - t) > (options.toleranceSec ?? SIGNATURE_TOLERANCE_SEC)) return false;
  const want = Buffer.from(hmacHex(secret, t, body), 'hex');
  return sigs.some((s) => timingSafeEqual(Buffer.from(s, 'hex'), want));
}
