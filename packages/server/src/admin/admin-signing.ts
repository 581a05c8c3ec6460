import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** What each key derived from the admin key signs (one key per use, so no signature passes for another). */
const KEY_USES = ['session', 'csrf', 'token', 'ledger'] as const;
/** A use of a derived key. */
export type AdminKeyUse = (typeof KEY_USES)[number];

/** Salt of the key derivation; changing it ends every session, as changing the admin key does. */
const HKDF_SALT = 'syncline-admin-v1';
/** Length of each derived key and of a signature, bytes (HMAC-SHA256). */
const KEY_BYTES = 32;

/**
 * Keys derived from the admin key with HKDF-SHA256, one per use: session
 * cookies, CSRF tokens, console connection tokens and the session ledger the
 * nodes exchange. Every node of a cluster has the same admin key, so every
 * node derives the same keys and checks what any other node signed; a
 * different admin key signs nothing the others accept.
 */
export class AdminKeys {
  readonly #keys: ReadonlyMap<AdminKeyUse, Buffer>;

  /**
   * Derives the keys of `adminKey`; with `processSalt` (random, kept by no
   * one) they are this process's alone, so nothing they signed outlives it.
   */
  constructor(adminKey: string, processSalt = '') {
    const salt = `${HKDF_SALT}${processSalt}`;
    this.#keys = new Map(
      KEY_USES.map((use) => [use, Buffer.from(hkdfSync('sha256', adminKey, salt, `syncline-admin:${use}`, KEY_BYTES))]),
    );
  }

  /** The HMAC-SHA256 of `text` under the key of `use`, base64url (43 characters). */
  sign(use: AdminKeyUse, text: string): string {
    return createHmac('sha256', this.#keys.get(use) as Buffer)
      .update(text)
      .digest('base64url');
  }

  /** Whether `mac` is the signature of `text` under the key of `use` (constant time). */
  verify(use: AdminKeyUse, text: string, mac: string): boolean {
    return sameSecret(mac, this.sign(use, text));
  }
}

/** Constant-time comparison of two strings. */
export function sameSecret(given: string, want: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  if (a.length === b.length) return timingSafeEqual(a, b);
  // Compare against itself on a length mismatch, so the time does not depend on the given length.
  timingSafeEqual(b, b);
  return false;
}
