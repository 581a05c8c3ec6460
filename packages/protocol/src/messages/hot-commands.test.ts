import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { COMMAND_SCHEMAS } from './commands.js';
import { parseHotCommand } from './hot-commands.js';
import { parseCommand } from './index.js';

const long = 'c'.repeat(256);
const samples: Record<string, unknown>[] = [
  { type: 'publish', id: 1, channel: 'chat:a', data: { text: 'hi' } },
  { type: 'publish', id: 7, channel: 'chat:a', data: null },
  { type: 'publish', id: 7, channel: 'chat:a', data: [1, 2], key: 'k1' },
  { type: 'publish', id: 7, channel: 'chat:a', data: 1, key: '' },
  { type: 'publish', id: 7, channel: 'chat:a', data: 1, key: 'k'.repeat(129) },
  { type: 'publish', id: 7, channel: 'chat:a', data: 1, key: 5 },
  { type: 'publish', id: 7, channel: 'chat:a' },
  { type: 'publish', id: 7, channel: 'chat:a', data: 1, extra: true },
  { type: 'publish', id: 0, channel: 'chat:a', data: 1 },
  { type: 'publish', id: 1.5, channel: 'chat:a', data: 1 },
  { type: 'publish', id: '1', channel: 'chat:a', data: 1 },
  { type: 'publish', id: Number.MAX_SAFE_INTEGER + 2, channel: 'chat:a', data: 1 },
  { type: 'publish', id: 3, channel: 'ab', data: 1 },
  { type: 'publish', id: 3, channel: long, data: 1 },
  { type: 'publish', id: 3, channel: 4, data: 1 },
  { type: 'subscribe', id: 2, channel: 'chat:a' },
  { type: 'subscribe', id: 2, channel: 'chat:a', since: { epoch: 'e', offset: 3 } },
  { type: 'subscribe', id: 2, channel: 'chat:a', other: 1 },
  { type: 'subscribe', id: -2, channel: 'chat:a' },
  { type: 'unsubscribe', id: 3, channel: 'chat:a' },
  { type: 'unsubscribe', id: 3 },
  { type: 'ping' },
  { type: 'ping', id: 1 },
  { type: 'pong' },
  { type: 'pong', extra: 'x' },
  JSON.parse('{"type":"publish","id":1,"channel":"chat:a","data":1,"__proto__":{"x":1}}'),
];

describe('parseHotCommand', () => {
  it('accepts only what the schema accepts, with the same output', () => {
    let accepted = 0;
    for (const rec of samples) {
      const type = rec.type as keyof typeof COMMAND_SCHEMAS;
      const hot = parseHotCommand(type, rec);
      const schema = v.safeParse(COMMAND_SCHEMAS[type], rec);
      if (hot !== undefined) {
        accepted++;
        expect(schema.success, JSON.stringify(rec)).toBe(true);
        expect(hot).toStrictEqual(schema.output);
      }
    }
    // The plainly valid samples take the compiled path.
    expect(accepted).toBe(7);
  });

  it('leaves the errors to the schema, worded as before', () => {
    expect(parseCommand({ type: 'publish', id: 4, channel: 'ab', data: 1 })).toMatchObject({
      ok: false,
      code: 'invalid_command',
      id: 4,
    });
    expect(parseCommand({ type: 'publish', id: 4, channel: 'chat:a', data: 1, extra: 1 })).toStrictEqual({
      ok: true,
      command: { type: 'publish', id: 4, channel: 'chat:a', data: 1 },
    });
  });
});
