import type { Codec } from '@syncline/protocol';
import { longPollTransport } from './longpoll.js';
import { type SseTransportOptions, sseTransport } from './sse.js';
import type { ClientFrame, ClientTransport, ClientTransportEvents, TransportFactory } from './transport.js';
import { type WebSocketConstructor, websocketTransport } from './websocket.js';

/** Names of the built-in transports. */
export type TransportName = 'websocket' | 'sse' | 'longpoll';

/** Default transport order. */
export const DEFAULT_TRANSPORTS: readonly TransportName[] = ['websocket', 'sse', 'longpoll'];

/** Close code reported when no transport of the list could connect. */
const NO_TRANSPORT_CLOSE = 1006;

/** Minimal `sessionStorage` surface. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

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

/** A named transport factory. */
export interface NamedTransport {
  readonly name: string;
  readonly factory: TransportFactory;
}

/** Options needed to build the built-in transports. */
export interface BuiltinTransportOptions extends SseTransportOptions {
  readonly WebSocket?: WebSocketConstructor;
}

/** The `ping` a background probe sends, in `codec`. */
function probeFrame(codec: Codec): ClientFrame {
  return codec.encode({ type: 'ping' });
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

/** Lets a background timer not hold a Node process open. */
function unrefTimer<T>(t: T): T {
  (t as { unref?: () => void }).unref?.();
  return t;
}

/** Storage access that never throws (private browsing, quota). */
function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/**
 * A transport factory that tries `candidates` in order. A candidate that
 * closes, or does not deliver its first server frame within `timeoutMs`, is
 * dropped for the next one; the client only sees the candidate that worked
 * (or one close when none did). A fallback that worked is remembered (per
 * client and in `sessionStorage`, per server URL) and tried first next time,
 * while the first candidate is probed in the background: once it answers, the
 * memory is cleared and the next reconnect uses it again.
 */
export function fallbackTransport(
  candidates: readonly NamedTransport[],
  options: FallbackOptions = {},
): TransportFactory {
  if (candidates.length === 0) throw new Error('The transport list is empty.');
  const timeoutMs = options.timeoutMs ?? 6_000;
  const probeIntervalMs = options.probeIntervalMs ?? 120_000;
  const storage = options.storage ?? defaultStorage();
  let remembered: string | undefined;
  const keyOf = (url: string): string => `syncline.transport:${url}`;

  const startIndex = (url: string): number => {
    const name = remembered ?? safely(() => storage?.getItem(keyOf(url))) ?? undefined;
    const i = candidates.findIndex((c) => c.name === name);
    return i < 0 ? 0 : i;
  };
  const remember = (url: string, index: number): void => {
    const name = (candidates[index] as NamedTransport).name;
    if (index === 0) {
      remembered = undefined;
      safely(() => storage?.removeItem(keyOf(url)));
    } else {
      remembered = name;
      safely(() => storage?.setItem(keyOf(url), name));
    }
  };
  const forget = (url: string): void => {
    remembered = undefined;
    safely(() => storage?.removeItem(keyOf(url)));
  };

  /** Opens the first candidate aside, sends a ping, and reports whether a frame came back in time. */
  const probe = (url: string, codec: Codec, done: (ok: boolean) => void): (() => void) => {
    let settled = false;
    let transport: ClientTransport | undefined;
    const settle = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      transport?.close(1000, 'probe done');
      done(ok);
    };
    const timer = setTimeout(() => settle(false), timeoutMs);
    (candidates[0] as NamedTransport)
      .factory(
        url,
        {
          onOpen: () => transport?.send(probeFrame(codec)),
          onFrame: () => settle(true),
          onClose: () => settle(false),
        },
        codec,
      )
      .then(
        (t) => {
          transport = t;
          if (settled) t.close(1000, 'probe done');
        },
        () => settle(false),
      );
    return () => settle(false);
  };

  return async (url: string, events: ClientTransportEvents, codec: Codec): Promise<ClientTransport> => {
    let current: ClientTransport | undefined;
    let currentName = (candidates[startIndex(url)] as NamedTransport).name;
    let attempt = 0;
    let done = false;
    let pending: ClientFrame[] = [];
    let firstFrameTimer: ReturnType<typeof setTimeout> | undefined;
    let probeTimer: ReturnType<typeof setTimeout> | undefined;
    let cancelProbe: (() => void) | undefined;

    const stopProbing = (): void => {
      if (probeTimer) clearTimeout(probeTimer);
      probeTimer = undefined;
      cancelProbe?.();
      cancelProbe = undefined;
    };
    const scheduleProbe = (): void => {
      probeTimer = unrefTimer(
        setTimeout(() => {
          probeTimer = undefined;
          cancelProbe = probe(url, codec, (ok) => {
            cancelProbe = undefined;
            if (done) return;
            if (ok) forget(url);
            else scheduleProbe();
          });
        }, probeIntervalMs),
      );
    };

    const tryAt = (index: number, order: readonly number[], position: number): void => {
      if (done) return;
      if (position >= order.length) {
        done = true;
        events.onClose(NO_TRANSPORT_CLOSE, 'no transport could connect');
        return;
      }
      const me = ++attempt;
      let established = false;
      pending = [];
      const candidate = candidates[index] as NamedTransport;
      currentName = candidate.name;
      current = undefined;
      const next = (): void => {
        if (me !== attempt || done || established) return;
        attempt++;
        if (firstFrameTimer) clearTimeout(firstFrameTimer);
        const t = current;
        current = undefined;
        t?.close(1000, 'trying the next transport');
        tryAt(order[position + 1] ?? -1, order, position + 1);
      };
      firstFrameTimer = setTimeout(next, timeoutMs);
      candidate
        .factory(
          url,
          {
            onOpen: () => {
              if (me === attempt && !done) events.onOpen();
            },
            onFrame: (frame) => {
              if (me !== attempt || done) return;
              if (!established) {
                established = true;
                if (firstFrameTimer) clearTimeout(firstFrameTimer);
                remember(url, index);
                if (index !== 0 && probeIntervalMs > 0) scheduleProbe();
              }
              events.onFrame(frame);
            },
            onClose: (code, reason) => {
              if (me !== attempt || done) return;
              if (!established) {
                next();
                return;
              }
              done = true;
              stopProbing();
              events.onClose(code, reason);
            },
          },
          codec,
        )
        .then(
          (t) => {
            if (me !== attempt || done) {
              t.close(1000, 'superseded');
              return;
            }
            current = t;
            const queued = pending;
            pending = [];
            for (const f of queued) t.send(f);
          },
          () => next(),
        );
    };

    const first = startIndex(url);
    // The remembered transport first, then the rest in list order.
    const order = [first, ...candidates.map((_, i) => i).filter((i) => i !== first)];
    queueMicrotask(() => tryAt(first, order, 0));

    return {
      get name() {
        return currentName;
      },
      send(frame) {
        if (done) return;
        if (current) current.send(frame);
        else pending.push(frame);
      },
      close(code, reason) {
        if (done) return;
        done = true;
        if (firstFrameTimer) clearTimeout(firstFrameTimer);
        stopProbing();
        const t = current;
        current = undefined;
        t?.close(code, reason);
        events.onClose(code, reason);
      },
    };
  };
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
