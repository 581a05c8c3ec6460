import type { IncomingMessage } from 'node:http';
import type { Codec } from '@syncline/protocol';
import { formatCloseEvent, formatEvent, frameText } from './event-stream.js';
import { HttpSessionConnection, type HttpSessionRegistry } from './http-sessions.js';
import type { ForwardedResponse } from './session-forwarder.js';

/** How long a closed session keeps its last frames for the next poll. */
const CLOSE_LINGER_MS = 10_000;

/** Content type of a poll answer: the event-stream text format, as a complete body. */
export const POLL_CONTENT_TYPE = 'text/plain; charset=utf-8';

/** Timing of long-polling sessions. */
export interface LongPollTiming {
  /** Longest a poll waits for frames before it is answered empty (204). */
  readonly pollTimeoutMs: number;
  /** A session with no poll outstanding for this long is closed as abandoned. */
  readonly idleTimeoutMs: number;
}

interface Waiter {
  readonly resolve: (r: ForwardedResponse) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Long-polling: frames for the client queue here until it polls (GET); a poll
 * waits until frames arrive or the poll timeout passes. Frames from the client
 * arrive by POST. The queue counts in `bufferedAmount`, so a client that stops
 * polling trips the core's slow-consumer limit; one that goes away entirely is
 * closed after `idleTimeoutMs`.
 */
export class LongPollConnection extends HttpSessionConnection {
  readonly transport = 'longpoll';
  readonly #registry: HttpSessionRegistry;
  readonly #timing: LongPollTiming;
  #queue: string[] = [];
  #queuedBytes = 0;
  #closeEvent: string | undefined;
  #waiter: Waiter | undefined;
  #answerScheduled = false;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(id: string, req: IncomingMessage, registry: HttpSessionRegistry, timing: LongPollTiming, codec: Codec) {
    super(id, req.socket.remoteAddress ?? '', codec);
    this.#registry = registry;
    this.#timing = timing;
    this.#armIdle(timing.idleTimeoutMs);
  }

  get bufferedAmount(): number {
    return this.#queuedBytes;
  }

  send(frame: string | Uint8Array): void {
    if (this.closed) return;
    const text = formatEvent(frameText(frame));
    this.#queue.push(text);
    this.#queuedBytes += text.length;
    // Frames flushed together in this tick go out in one answer.
    if (this.#waiter && !this.#answerScheduled) {
      this.#answerScheduled = true;
      queueMicrotask(() => {
        this.#answerScheduled = false;
        this.#answer();
      });
    }
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.#closeEvent = formatCloseEvent(code, reason.slice(0, 120));
    this.#armIdle(CLOSE_LINGER_MS);
    this.finish(code, reason);
    if (this.#waiter) this.#answer();
  }

  override poll(): Promise<ForwardedResponse> {
    // A newer poll replaces an older one, which is answered empty (nothing taken).
    const previous = this.#waiter;
    if (previous) {
      this.#waiter = undefined;
      clearTimeout(previous.timer);
      previous.resolve({ status: 204, body: '' });
    }
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#answer(), this.#timing.pollTimeoutMs);
      timer.unref();
      this.#waiter = { resolve, timer };
      if (this.#queue.length > 0 || this.#closeEvent !== undefined) this.#answer();
    });
  }

  /** Answers the outstanding poll with everything queued (and the close event, once closed). */
  #answer(): void {
    const waiter = this.#waiter;
    if (!waiter) return;
    this.#waiter = undefined;
    clearTimeout(waiter.timer);
    const body = this.#queue.join('') + (this.#closeEvent ?? '');
    this.#queue = [];
    this.#queuedBytes = 0;
    if (this.#closeEvent !== undefined) {
      if (this.#idleTimer) clearTimeout(this.#idleTimer);
      this.#registry.remove(this);
    } else {
      this.#armIdle(this.#timing.idleTimeoutMs);
    }
    waiter.resolve(
      body.length === 0 ? { status: 204, body: '' } : { status: 200, body, contentType: POLL_CONTENT_TYPE },
    );
  }

  #armIdle(ms: number): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      this.#registry.remove(this);
      this.#queue = [];
      this.#queuedBytes = 0;
      this.finish(1006, 'poll timeout');
    }, ms);
    this.#idleTimer.unref();
  }
}
