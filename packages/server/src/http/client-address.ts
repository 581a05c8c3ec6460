import type { IncomingMessage } from 'node:http';

/**
 * The entry `hops` places from the right of a comma-separated forwarding
 * header (each proxy appends the address it saw), or undefined without one.
 * Entries further left were written by the client and can be forged.
 */
function forwarded(value: string | string[] | undefined, hops: number): string | undefined {
  if (value === undefined || hops <= 0) return undefined;
  const list = (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
  if (list.length === 0) return undefined;
  return list[Math.max(0, list.length - hops)];
}

/**
 * The client address of a request: the peer address, or with `hops` trusted
 * proxies the address the outermost trusted proxy saw (`X-Forwarded-For`).
 * IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) count as their IPv4 address.
 */
export function clientAddress(req: IncomingMessage, hops: number): string {
  const raw = forwarded(req.headers['x-forwarded-for'], hops) ?? req.socket.remoteAddress ?? '';
  return raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw;
}

/** The host the client asked for: `Host`, or with trusted proxies `X-Forwarded-Host` when present. */
export function requestHost(req: IncomingMessage, hops: number): string | undefined {
  return forwarded(req.headers['x-forwarded-host'], hops) ?? req.headers.host;
}
