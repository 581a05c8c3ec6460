import { readFileSync } from 'node:fs';
import { SynclineError as ClientSynclineError } from '@syncline/client';
import {
  CLIENT_ERROR_CODES,
  CLOSE_CODES,
  closeCodeInfo,
  ERROR_CODES,
  type ErrorGroup,
  errorGroup,
  isErrorCode,
  SynclineError,
  toSynclineError,
} from '@syncline/protocol';
import { describe, expect, it } from 'vitest';

const GROUPS: readonly ErrorGroup[] = ['bad-request', 'auth', 'retry', 'fatal'];
const doc = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');

/** `| \`code\` | group | meaning |` rows of the error tables. */
function documentedErrors(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of doc.matchAll(/^\|\s*`([a-z0-9_]+)`\s*\|\s*(bad-request|auth|retry|fatal)\s*\|/gm)) {
    expect(out.has(m[1] as string), `error code ${m[1]} documented twice`).toBe(false);
    out.set(m[1] as string, m[2] as string);
  }
  return out;
}

/** `| 4001 | \`NAME\` | yes/no | meaning |` rows of the close-code table. */
function documentedCloseCodes(): Map<string, { code: number; reconnect: boolean }> {
  const out = new Map<string, { code: number; reconnect: boolean }>();
  for (const m of doc.matchAll(/^\|\s*(\d{4})\s*\|\s*`([A-Z0-9_]+)`\s*\|\s*(yes|no)\s*\|/gm)) {
    expect(out.has(m[2] as string), `close code ${m[2]} documented twice`).toBe(false);
    out.set(m[2] as string, { code: Number(m[1]), reconnect: m[3] === 'yes' });
  }
  return out;
}

describe('error codes', () => {
  const all = { ...ERROR_CODES, ...CLIENT_ERROR_CODES } as Record<string, { group: ErrorGroup; description: string }>;

  it('are unique across server and client codes, well formed, grouped and described', () => {
    const wire = Object.keys(ERROR_CODES);
    const client = Object.keys(CLIENT_ERROR_CODES);
    expect(wire.filter((c) => client.includes(c))).toEqual([]);
    for (const [code, info] of Object.entries(all)) {
      expect(code).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(GROUPS).toContain(info.group);
      expect(info.description.length, code).toBeGreaterThan(10);
      expect(errorGroup(code)).toBe(info.group);
      expect(new SynclineError(code as never, 'x').group).toBe(info.group);
    }
    for (const code of wire) expect(isErrorCode(code)).toBe(true);
    for (const code of client) expect(isErrorCode(code)).toBe(false);
  });

  it('are every one documented in docs/protocol.md with its group, and nothing else is', () => {
    const documented = documentedErrors();
    for (const [code, info] of Object.entries(all)) {
      expect(documented.get(code), `error code ${code} missing from docs/protocol.md`).toBe(info.group);
    }
    for (const code of documented.keys()) {
      expect(Object.hasOwn(all, code), `docs/protocol.md documents unknown error code ${code}`).toBe(true);
    }
  });

  it('turn any thrown value into a SynclineError, the same class on both sides', () => {
    expect(ClientSynclineError).toBe(SynclineError);
    const e = new SynclineError('forbidden', 'no', { retryAfterMs: 5, details: { a: 1 } });
    expect(toSynclineError(e)).toBe(e);
    expect(e).toMatchObject({ name: 'SynclineError', code: 'forbidden', retryAfterMs: 5, details: { a: 1 } });
    expect(toSynclineError(new Error('boom'))).toMatchObject({ code: 'internal', message: 'boom' });
    expect(toSynclineError('text')).toMatchObject({ code: 'internal', message: 'text' });
  });
});

describe('close codes', () => {
  it('are unique, in the WebSocket ranges, and documented with whether the client reconnects', () => {
    const numbers = Object.values(CLOSE_CODES).map((c) => c.code);
    expect(new Set(numbers).size).toBe(numbers.length);
    const documented = documentedCloseCodes();
    for (const [name, info] of Object.entries(CLOSE_CODES)) {
      expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(info.code === 1000 || info.code === 1009 || (info.code >= 4000 && info.code <= 4999), name).toBe(true);
      expect(info.description.length).toBeGreaterThan(10);
      expect(documented.get(name), `close code ${name} missing from docs/protocol.md`).toEqual({
        code: info.code,
        reconnect: info.reconnect,
      });
      expect(closeCodeInfo(info.code)?.name).toBe(name);
    }
    for (const name of documented.keys()) {
      expect(Object.hasOwn(CLOSE_CODES, name), `docs/protocol.md documents unknown close code ${name}`).toBe(true);
    }
    expect(closeCodeInfo(4999)).toBeUndefined();
  });
});
