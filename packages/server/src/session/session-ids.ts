import { randomBytes } from 'node:crypto';

/** Random bytes in a session id (96 bits). */
export const SESSION_ID_BYTES = 12;
/** Session ids drawn from one call to the CSPRNG. */
const IDS_PER_DRAW = 256;

let pool: Buffer = Buffer.alloc(0);
let at = 0;

/**
 * A new unguessable session id: 12 bytes of the CSPRNG, base64url. The
 * bytes are drawn for 256 ids at a time (each used once), which spares a
 * CSPRNG call and a buffer per connection.
 */
export function newSessionId(): string {
  if (at + SESSION_ID_BYTES > pool.length) {
    pool = randomBytes(SESSION_ID_BYTES * IDS_PER_DRAW);
    at = 0;
  }
  const id = pool.toString('base64url', at, at + SESSION_ID_BYTES);
  at += SESSION_ID_BYTES;
  return id;
}
