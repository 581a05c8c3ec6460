import type { Codec, CommandOf } from '@syncline/protocol';
import type { ClientFrame, ClientTransport, ClientTransportEvents, TransportFactory } from './transport.js';

/** Close code reported when no transport of the list could connect. */
const NO_TRANSPORT_CLOSE = 1006;

/** Minimal `sessionStorage` surface. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A named transport factory. */
export interface NamedTransport {
  readonly name: string;
  readonly factory: TransportFactory;
}

/** Timing of a fallback chain. */
export interface FallbackTiming {
  /** Time a candidate has from starting to open until the server's first frame. */
  readonly timeoutMs: number;
  /** While on a fallback, how often the first candidate is probed in the background (0: never). */
  readonly probeIntervalMs: number;
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
 * Which candidate worked last, per server URL: in memory for this client and
 * in `storage` (`sessionStorage` by default) for the next page of the tab.
 */
export class TransportMemory {
  readonly #candidates: readonly NamedTransport[];
  readonly #storage: StorageLike | undefined;
  #remembered: string | undefined;

  constructor(candidates: readonly NamedTransport[], storage: StorageLike | undefined) {
    this.#candidates = candidates;
    this.#storage = storage;
  }

  #key(url: string): string {
    return `syncline.transport:${url}`;
  }

  /** Index of the candidate to try first for `url`. */
  startIndex(url: string): number {
    const name = this.#remembered ?? safely(() => this.#storage?.getItem(this.#key(url))) ?? undefined;
    const i = this.#candidates.findIndex((c) => c.name === name);
    return i < 0 ? 0 : i;
  }

  /** The candidate at `index` worked for `url` (the first one clears the memory). */
  remember(url: string, index: number): void {
    if (index === 0) {
      this.forget(url);
      return;
    }
    const name = (this.#candidates[index] as NamedTransport).name;
    this.#remembered = name;
    safely(() => this.#storage?.setItem(this.#key(url), name));
  }

  /** Forgets the fallback of `url`: the next connection starts with the first candidate. */
  forget(url: string): void {
    this.#remembered = undefined;
    safely(() => this.#storage?.removeItem(this.#key(url)));
  }
}

/**
 * Opens `candidate` aside, sends a `ping` and calls `done(true)` when a frame
 * comes back within `timeoutMs`, else `done(false)`. Returns a canceller
 * (which reports `false`).
 */
export function probeTransport(
  candidate: NamedTransport,
  url: string,
  codec: Codec,
  timeoutMs: number,
  done: (ok: boolean) => void,
): () => void {
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
  candidate
    .factory(
      url,
      {
        onOpen: () => transport?.send(codec.encode({ type: 'ping' })),
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
}

/**
 * One client connection over the first candidate that works. Candidates are
 * tried in order (the remembered one first); one that closes, or delivers no
 * frame within `timeoutMs`, is dropped for the next. The client only sees the
 * candidate that worked (or one close when none did). While on a fallback,
 * the first candidate is probed in the background; once it answers, the
 * memory is cleared and the next reconnect uses it again.
 */
export class FallbackConnection implements ClientTransport {
  readonly #candidates: readonly NamedTransport[];
  readonly #memory: TransportMemory;
  readonly #timing: FallbackTiming;
  readonly #url: string;
  readonly #events: ClientTransportEvents;
  readonly #codec: Codec;
  #current: ClientTransport | undefined;
  #currentName: string;
  /** Incremented per candidate tried: callbacks of an abandoned one are ignored. */
  #attempt = 0;
  #done = false;
  /** Frames sent before the current candidate's transport exists. */
  #pending: ClientFrame[] = [];
  #firstFrameTimer: ReturnType<typeof setTimeout> | undefined;
  #probeTimer: ReturnType<typeof setTimeout> | undefined;
  #cancelProbe: (() => void) | undefined;
  /** The `connect` a candidate may carry in its opening request. */
  readonly #connect: CommandOf<'connect'> | undefined;

  constructor(
    candidates: readonly NamedTransport[],
    memory: TransportMemory,
    timing: FallbackTiming,
    url: string,
    events: ClientTransportEvents,
    codec: Codec,
    connect?: CommandOf<'connect'>,
  ) {
    this.#connect = connect;
    this.#candidates = candidates;
    this.#memory = memory;
    this.#timing = timing;
    this.#url = url;
    this.#events = events;
    this.#codec = codec;
    const first = memory.startIndex(url);
    this.#currentName = (candidates[first] as NamedTransport).name;
    // The remembered candidate first, then the rest in list order.
    const order = [first, ...candidates.map((_, i) => i).filter((i) => i !== first)];
    queueMicrotask(() => this.#tryAt(order, 0));
  }

  get name(): string {
    return this.#currentName;
  }

  send(frame: ClientFrame): void {
    if (this.#done) return;
    if (this.#current) this.#current.send(frame);
    else this.#pending.push(frame);
  }

  close(code: number, reason: string): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#firstFrameTimer) clearTimeout(this.#firstFrameTimer);
    this.#stopProbing();
    const t = this.#current;
    this.#current = undefined;
    t?.close(code, reason);
    this.#events.onClose(code, reason);
  }

  /** Tries the candidate at `order[position]`; past the end, reports that none could connect. */
  #tryAt(order: readonly number[], position: number): void {
    if (this.#done) return;
    const index = order[position];
    if (index === undefined) {
      this.#done = true;
      this.#events.onClose(NO_TRANSPORT_CLOSE, 'no transport could connect');
      return;
    }
    const me = ++this.#attempt;
    let established = false;
    this.#pending = [];
    const candidate = this.#candidates[index] as NamedTransport;
    this.#currentName = candidate.name;
    this.#current = undefined;
    const live = (): boolean => me === this.#attempt && !this.#done;
    const next = (): void => {
      if (!live() || established) return;
      this.#attempt++;
      if (this.#firstFrameTimer) clearTimeout(this.#firstFrameTimer);
      const t = this.#current;
      this.#current = undefined;
      t?.close(1000, 'trying the next transport');
      this.#tryAt(order, position + 1);
    };
    this.#firstFrameTimer = setTimeout(next, this.#timing.timeoutMs);
    candidate
      .factory(
        this.#url,
        {
          onOpen: (carried) => {
            if (live()) this.#events.onOpen(carried);
          },
          onFrame: (frame) => {
            if (!live()) return;
            if (!established) {
              established = true;
              if (this.#firstFrameTimer) clearTimeout(this.#firstFrameTimer);
              this.#memory.remember(this.#url, index);
              if (index !== 0 && this.#timing.probeIntervalMs > 0) this.#scheduleProbe();
            }
            this.#events.onFrame(frame);
          },
          onClose: (code, reason) => {
            if (!live()) return;
            if (!established) {
              next();
              return;
            }
            this.#done = true;
            this.#stopProbing();
            this.#events.onClose(code, reason);
          },
        },
        this.#codec,
        this.#connect,
      )
      .then(
        (t) => {
          if (!live()) {
            t.close(1000, 'superseded');
            return;
          }
          this.#current = t;
          const queued = this.#pending;
          this.#pending = [];
          for (const f of queued) t.send(f);
        },
        () => next(),
      );
  }

  #scheduleProbe(): void {
    this.#probeTimer = unrefTimer(
      setTimeout(() => {
        this.#probeTimer = undefined;
        const first = this.#candidates[0] as NamedTransport;
        this.#cancelProbe = probeTransport(first, this.#url, this.#codec, this.#timing.timeoutMs, (ok) => {
          this.#cancelProbe = undefined;
          if (this.#done) return;
          if (ok) this.#memory.forget(this.#url);
          else this.#scheduleProbe();
        });
      }, this.#timing.probeIntervalMs),
    );
  }

  #stopProbing(): void {
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    this.#cancelProbe?.();
    this.#cancelProbe = undefined;
  }
}
