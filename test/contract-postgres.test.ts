import { PostgresDocStore, PostgresWebhookOutbox } from '@syncline/postgres';
import { DocVersionConflict } from '@syncline/server';
import {
  docStoreContract,
  OUTBOX_CONTRACT_LEASE_MS,
  OUTBOX_CONTRACT_MAX_EVENTS,
  webhookOutboxContract,
} from '@syncline/testing';
import { describe, expect, it } from 'vitest';
import { DATABASE_URL, freshSchema, postgresService } from './cluster/postgres-env.js';
import { defer } from './helpers.js';

describe.runIf(postgresService.available)('PostgreSQL', () => {
  docStoreContract({
    name: 'PostgresDocStore',
    multiNode: true,
    async create() {
      return {
        open: () => PostgresDocStore.connect({ url: DATABASE_URL, maxConnections: 4 }),
        close: async () => undefined,
      };
    },
  });

  let node = 0;
  webhookOutboxContract({
    name: 'PostgresWebhookOutbox',
    multiNode: true,
    async create() {
      // The outbox is one table per deployment: each backend is a schema of its own.
      const schema = await freshSchema();
      return {
        open: () =>
          PostgresWebhookOutbox.connect({
            url: schema.url,
            maxConnections: 2,
            maxEvents: OUTBOX_CONTRACT_MAX_EVENTS,
            urls: new Map([
              [0, 'http://127.0.0.1:1/a'],
              [1, 'http://127.0.0.1:1/b'],
            ]),
            nodeId: `node-${++node}`,
            leaseMs: OUTBOX_CONTRACT_LEASE_MS,
            countMaxAgeMs: 0,
          }),
        close: () => schema.drop(),
      };
    },
  });
});

describe.runIf(postgresService.available)('PostgreSQL document commits and the webhook outbox', () => {
  it('writes a commit and its webhook event in one transaction: both or neither', async () => {
    const schema = await freshSchema();
    defer(() => schema.drop());
    const store = await PostgresDocStore.connect({ url: schema.url, maxConnections: 2 });
    defer(() => store.close());
    const outbox = store.webhookOutbox({
      maxEvents: 100,
      urls: new Map([[0, 'http://127.0.0.1:1/a']]),
      nodeId: 'n1',
      leaseMs: 1_000,
    });
    let refuse = false;
    store.onCommit(async (input, tx) => {
      const event = {
        id: `evt_${input.version}`,
        type: 'doc.committed' as const,
        time: '',
        data: { version: input.version },
      };
      await outbox.add([{ event, stream: `d/${input.doc}`, endpoints: [0] }], input.ts, tx);
      if (refuse) throw new Error('refused after the outbox write');
    });
    const commit = (version: number) =>
      store.commit({ doc: 'd:1', version, patches: [], ts: 1_700_000_000_000 + version });
    await commit(1);
    await expect(commit(3)).rejects.toBeInstanceOf(DocVersionConflict);
    refuse = true;
    await expect(commit(2)).rejects.toThrow('refused after the outbox write');
    refuse = false;
    await commit(2);
    const pending = await outbox.list('pending', 0, 10);
    expect(pending.map((d) => [d.stream, d.event.id])).toEqual([
      ['d/d:1', 'evt_1'],
      ['d/d:1', 'evt_2'],
    ]);
    expect((await store.load('d:1')).version).toBe(2);
  });
});
