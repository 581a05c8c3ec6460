import { describe, expect, it } from 'vitest';
import { isServerMessage } from './server-messages.js';

describe('isServerMessage', () => {
  it('accepts an object whose type is a server message type, of every area', () => {
    for (const type of ['reply', 'error', 'pub', 'status', 'update', 'message', 'doc.patch', 'presence.diff']) {
      expect(isServerMessage({ type })).toBe(true);
    }
  });

  it('refuses values without a known type: other shapes, client commands, unknown types', () => {
    const refused: unknown[] = [
      null,
      7,
      'pub',
      [{ type: 'pub' }],
      {},
      { type: 3 },
      { type: 'publish' },
      { type: 'toString' },
      { type: 'from.a.newer.server' },
    ];
    expect(refused.filter(isServerMessage)).toEqual([]);
  });
});
