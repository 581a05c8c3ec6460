import type { ClientCommand, Codec } from '@syncline/protocol';
import type { ClientFrame, ClientTransport } from './transport/transport.js';

/** Largest batched frame, in characters (bytes for a binary codec), whatever the server accepts. */
export const MAX_BATCH_FRAME_CHARS = 16 * 1024;

/** Most commands batched in one frame: the server refuses a frame with more (`bad_frame`, docs/security.md). */
export const MAX_BATCH_COMMANDS = 100;

/** Frame limit assumed when the server announces none, in bytes. */
const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

/**
 * Outbound messages of one connection: messages queued within a microtask go
 * out together, as an array per frame (`codec.join`). Frames stay below the server's
 * limits (bytes, and `MAX_BATCH_COMMANDS` commands); a message too big to share a frame goes alone. Messages queued while
 * no transport is open are dropped (requests keep their own copy).
 */
export class Outbox {
  readonly #transport: () => ClientTransport | undefined;
  readonly #codec: Codec;
  #queue: ClientCommand[] = [];
  #flushQueued = false;
  #maxBatchChars = MAX_BATCH_FRAME_CHARS;

  /** `transport` returns the open transport, if any, at the time of sending. */
  constructor(transport: () => ClientTransport | undefined, codec: Codec) {
    this.#transport = transport;
    this.#codec = codec;
  }

  /** Queues a message; the queue is flushed in a microtask. */
  push(message: ClientCommand): void {
    if (!this.#transport()) return;
    this.#queue.push(message);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /** Forgets what is queued (the transport is gone). */
  clear(): void {
    this.#queue = [];
  }

  /** Adapts the batch size to the server's frame limit (from `connect`). */
  setMaxFrameBytes(maxFrameBytes: number | undefined): void {
    // A character takes at most 3 bytes in UTF-8.
    const perUnit = this.#codec.binary ? 1 : 3;
    this.#maxBatchChars = Math.min(
      MAX_BATCH_FRAME_CHARS,
      Math.floor((maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES) / perUnit),
    );
  }

  #flush(): void {
    this.#flushQueued = false;
    const out = this.#queue;
    this.#queue = [];
    if (!this.#transport() || out.length === 0) return;
    let batch: ClientFrame[] = [];
    let chars = 0;
    const sendBatch = (): void => {
      if (batch.length > 0)
        this.#transport()?.send(batch.length === 1 ? (batch[0] as ClientFrame) : this.#codec.join(batch));
      batch = [];
      chars = 0;
    };
    for (const message of out) {
      const encoded = this.#codec.encode(message);
      const size = typeof encoded === 'string' ? encoded.length : encoded.byteLength;
      if (chars + size + 2 > this.#maxBatchChars || batch.length >= MAX_BATCH_COMMANDS) sendBatch();
      batch.push(encoded);
      chars += size + 1;
    }
    sendBatch();
  }
}
