import { FallbackConnection, type NamedTransport, type StorageLike, TransportMemory } from './fallback-connection.js';
import { longPollTransport } from './longpoll.js';
import { type SseTransportOptions, sseTransport } from './sse.js';
import type { TransportFactory } from './transport.js';
import { type WebSocketConstructor, websocketTransport } from './websocket.js';

/** Names of the built-in transports. */
export type TransportName = 'websocket' | 'sse' | 'longpoll';

/** Default transport order. */
export const DEFAULT_TRANSPORTS: readonly TransportName[] = ['websocket', 'sse', 'longpoll'];

export type { NamedTransport, StorageLike } from './fallback-connection.js';

/** Timing and memory of the transport fallback. */
export interface FallbackOptions {
  /**
   * Time a transport has from starting to open until it delivers the server's
   * first frame (the reply to `connect`); past it, the next transport is tried
   * (default 6 s).
   */
  readonly timeoutMs?: number;
  /** While on a fallback, how often the first transport is tried again in the background (default 2 min). */
  readonly probeIntervalMs?: number;
  /** Where a working fallback is remembered (default `sessionStorage` when there is one). */
  readonly storage?: StorageLike;
}

/** Options needed to build the built-in transports. */
export interface BuiltinTransportOptions extends SseTransportOptions {
  readonly WebSocket?: WebSocketConstructor;
}

/** The factory of one built-in transport. */
export function builtinTransport(name: TransportName, options: BuiltinTransportOptions = {}): TransportFactory {
  const http = options.fetch ? { fetch: options.fetch } : {};
  switch (name) {
    case 'websocket':
      return websocketTransport(options.WebSocket);
    case 'sse':
      return sseTransport(options.EventSource ? { ...http, EventSource: options.EventSource } : http);
    case 'longpoll':
      return longPollTransport(http);
  }
}

function defaultStorage(): StorageLike | undefined {
  try {
    return (globalThis as { sessionStorage?: StorageLike }).sessionStorage;
  } catch {
    return undefined;
  }
}

/**
 * A transport factory that tries `candidates` in order, each connection a
 * `FallbackConnection`. A fallback that worked is remembered (per client and
 * in `sessionStorage`, per server URL) and tried first next time, while the
 * first candidate is probed in the background: once it answers, the memory
 * is cleared and the next reconnect uses it again.
 */
export function fallbackTransport(
  candidates: readonly NamedTransport[],
  options: FallbackOptions = {},
): TransportFactory {
  if (candidates.length === 0) throw new Error('The transport list is empty.');
  const timing = { timeoutMs: options.timeoutMs ?? 6_000, probeIntervalMs: options.probeIntervalMs ?? 120_000 };
  const memory = new TransportMemory(candidates, options.storage ?? defaultStorage());
  return async (url, events, codec, connect) =>
    new FallbackConnection(candidates, memory, timing, url, events, codec, connect);
}

/** What the client passes to build its transport. */
export interface TransportChoice extends BuiltinTransportOptions {
  readonly transports?: readonly TransportName[];
  readonly fallback?: FallbackOptions;
}

/** The transport factory for a transport list: the transport itself for one, a fallback chain for several. */
export function transportFromList(choice: TransportChoice): TransportFactory {
  const list = choice.transports ?? DEFAULT_TRANSPORTS;
  const first = list[0];
  if (first === undefined) throw new Error('The transport list is empty.');
  if (list.length === 1) return builtinTransport(first, choice);
  return fallbackTransport(
    list.map((name) => ({ name, factory: builtinTransport(name, choice) })),
    choice.fallback,
  );
}
