import { connect } from 'node:net';

/** Result of probing a backing service. */
export interface ServiceCheck {
  /** True when a TCP connection to the service succeeded. */
  readonly available: boolean;
  readonly url: string;
}

function probe(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Checks that a service (Redis, PostgreSQL) answers at `url`. When it does
 * not and `SYNCLINE_REQUIRE_SERVICES=1`, throws so that the test file fails
 * instead of being skipped; otherwise reports it unavailable.
 */
export async function requireService(name: string, url: string, defaultPort: number): Promise<ServiceCheck> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = u.port === '' ? defaultPort : Number(u.port);
  const available = await probe(host, port, 2_000);
  if (!available && process.env.SYNCLINE_REQUIRE_SERVICES === '1') {
    throw new Error(`${name} is required (SYNCLINE_REQUIRE_SERVICES=1) but does not answer at ${url}.`);
  }
  return { available, url };
}
