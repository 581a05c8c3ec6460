import { jsonCodec } from '@syncline/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FallbackConnection, type NamedTransport, type StorageLike, TransportMemory } from './fallback-connection.js';
import type { ClientFrame, ClientTransportEvents } from './transport.js';

/** A candidate that answers (`works`), closes at once (`closes`) or stays silent (`silent`). */
function candidate(name: string, behaviour: 'works' | 'closes' | 'silent', log: string[]): NamedTransport {
  return {
    name,
    factory: async (_url, events) => {
      log.push(`open ${name}`);
      setTimeout(() => {
        if (behaviour === 'closes') events.onClose(1006, 'refused');
        else if (behaviour === 'works') {
          events.onOpen();
          events.onFrame('{"type":"reply","id":1,"result":{}}');
        }
      }, 1);
      return {
        name,
        send: (frame: ClientFrame) => log.push(`${name} sent ${String(frame)}`),
        close: () => log.push(`close ${name}`),
      };
    },
  };
}

function memoryStorage(): StorageLike & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

function events(log: string[]): ClientTransportEvents {
  return {
    onOpen: () => log.push('onOpen'),
    onFrame: () => log.push('onFrame'),
    onClose: (code, reason) => log.push(`onClose ${code} ${reason}`),
  };
}

describe('FallbackConnection', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('drops a candidate that closes and one that stays silent, and remembers the one that worked', async () => {
    const log: string[] = [];
    const storage = memoryStorage();
    const list = [candidate('ws', 'closes', log), candidate('sse', 'silent', log), candidate('poll', 'works', log)];
    const memory = new TransportMemory(list, storage);
    const conn = new FallbackConnection(
      list,
      memory,
      { timeoutMs: 100, probeIntervalMs: 0 },
      'http://x',
      events(log),
      jsonCodec,
    );
    await vi.advanceTimersByTimeAsync(250);
    expect(log).toEqual(['open ws', 'close ws', 'open sse', 'close sse', 'open poll', 'onOpen', 'onFrame']);
    expect(conn.name).toBe('poll');
    expect(storage.data.get('syncline.transport:http://x')).toBe('poll');
    expect(memory.startIndex('http://x')).toBe(2);
    conn.send('late');
    expect(log.at(-1)).toBe('poll sent late');
  });

  it('reports one close when no candidate connects', async () => {
    const log: string[] = [];
    const list = [candidate('ws', 'closes', log), candidate('sse', 'closes', log)];
    const conn = new FallbackConnection(
      list,
      new TransportMemory(list, undefined),
      { timeoutMs: 100, probeIntervalMs: 0 },
      'http://x',
      events(log),
      jsonCodec,
    );
    await vi.advanceTimersByTimeAsync(50);
    expect(log.filter((l) => l.startsWith('onClose'))).toEqual(['onClose 1006 no transport could connect']);
    conn.close(1000, 'bye');
    expect(log.filter((l) => l.startsWith('onClose'))).toHaveLength(1);
  });

  it('probes the first candidate while on a fallback and forgets the fallback once it answers', async () => {
    const log: string[] = [];
    const storage = memoryStorage();
    let wsWorks = false;
    const ws: NamedTransport = {
      name: 'ws',
      factory: async (url, ev, codec) => candidate('ws', wsWorks ? 'works' : 'closes', log).factory(url, ev, codec),
    };
    const list = [ws, candidate('poll', 'works', log)];
    const memory = new TransportMemory(list, storage);
    new FallbackConnection(
      list,
      memory,
      { timeoutMs: 100, probeIntervalMs: 1_000 },
      'http://x',
      events(log),
      jsonCodec,
    );
    await vi.advanceTimersByTimeAsync(50);
    expect(memory.startIndex('http://x')).toBe(1);
    wsWorks = true;
    await vi.advanceTimersByTimeAsync(1_100);
    expect(log).toContain('ws sent {"type":"ping"}');
    expect(memory.startIndex('http://x')).toBe(0);
    expect(storage.data.size).toBe(0);
  });
});
