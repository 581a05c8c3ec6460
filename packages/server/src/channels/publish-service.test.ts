import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { PublishInput, PublishOutcome } from '../broker/broker.js';
import type { ServerHooks } from '../hooks.js';
import { NamespaceRegistry } from '../namespaces/namespaces.js';
import { type PublishHost, publishToChannel } from './publish-service.js';

/** A host whose broker records what it was given and treats a repeated key as a duplicate. */
function host(hooks: ServerHooks = {}) {
  const inputs: PublishInput[] = [];
  const keys = new Map<string, number>();
  const logged: string[] = [];
  const h: PublishHost = {
    namespaces: new NamespaceRegistry({ chat: {} }),
    hooks,
    logger: pino({ level: 'warn' }, { write: (line: string) => logged.push(line) }),
    broker: {
      async publish(input: PublishInput): Promise<PublishOutcome> {
        inputs.push(input);
        const seen = input.key === undefined ? undefined : keys.get(input.key);
        if (seen !== undefined) return { offset: seen, epoch: 'e', duplicate: true };
        const offset = inputs.length;
        if (input.key !== undefined) keys.set(input.key, offset);
        return { offset, epoch: 'e', duplicate: false };
      },
    },
  };
  return { h, inputs, logged };
}

describe('publishToChannel', () => {
  it('scopes idempotency keys to the publisher: s: for the server, u:<user>: for a user', async () => {
    const { h, inputs } = host();
    await publishToChannel(h, { channel: 'chat:a', data: 1, publisher: { kind: 'server' }, key: 'k' });
    await publishToChannel(h, { channel: 'chat:a', data: 2, publisher: { kind: 'user', user: 'ann' }, key: 'k' });
    await publishToChannel(h, { channel: 'chat:a', data: 3, publisher: { kind: 'user', user: 'ann' } });
    expect(inputs.map((i) => [i.user, i.key])).toEqual([
      [undefined, 's:k'],
      ['ann', 'u:ann:k'],
      ['ann', undefined],
    ]);
  });

  it('runs afterPublish once per new publication, not for a duplicate key', async () => {
    const seen: unknown[] = [];
    const { h } = host({ afterPublish: (ctx) => seen.push(ctx) });
    const first = await publishToChannel(h, { channel: 'chat:a', data: 'x', publisher: { kind: 'server' }, key: 'k' });
    const again = await publishToChannel(h, { channel: 'chat:a', data: 'x', publisher: { kind: 'server' }, key: 'k' });
    expect(first).toEqual({ offset: 1, epoch: 'e', duplicate: false });
    expect(again).toEqual({ offset: 1, epoch: 'e', duplicate: true });
    expect(seen).toEqual([{ user: undefined, channel: 'chat:a', data: 'x', offset: 1 }]);
  });

  it('logs what afterPublish throws and still resolves with the outcome', async () => {
    const { h, logged } = host({
      afterPublish: () => {
        throw new Error('hook broke');
      },
    });
    const outcome = await publishToChannel(h, { channel: 'chat:a', data: 1, publisher: { kind: 'user', user: 'u' } });
    expect(outcome.offset).toBe(1);
    expect(logged.join('')).toContain('afterPublish hook failed');
  });

  it('rejects a malformed channel name without publishing', async () => {
    const { h, inputs } = host();
    await expect(
      publishToChannel(h, { channel: 'nope', data: 1, publisher: { kind: 'server' } }),
    ).rejects.toMatchObject({
      code: 'bad_channel',
    });
    expect(inputs).toEqual([]);
  });
});
