import { describe, expect, it } from 'vitest';
import { newSessionId } from './session-ids.js';

describe('newSessionId', () => {
  it('gives 16-character base64url ids, never the same one twice across draws', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const id = newSessionId();
      expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(2_000);
  });
});
