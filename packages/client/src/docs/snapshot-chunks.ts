import type { DocSnapshotMessage } from '@syncline/protocol';

/**
 * Collects the `doc.snapshot` pieces of a snapshot announced by a
 * `doc.subscribe` reply with `chunks`. Pieces may arrive before the reply is
 * handled; they must come in order (index 0, 1, 2 … of one version).
 */
export class SnapshotChunks {
  #parts: string[] = [];
  #version = -1;
  #broken = false;
  #expected: { readonly version: number; readonly count: number } | undefined;

  /** True while a reply announced pieces that have not all arrived. */
  get awaiting(): boolean {
    return this.#expected !== undefined;
  }

  /** Forgets everything (a new subscribe, a lost connection). */
  reset(): void {
    this.#parts = [];
    this.#version = -1;
    this.#broken = false;
    this.#expected = undefined;
  }

  /** The reply announced `count` pieces of the snapshot at `version`. */
  expect(version: number, count: number): void {
    this.#expected = { version, count };
  }

  /** Takes a piece; false when it does not follow the previous one (resubscribe). */
  add(msg: Pick<DocSnapshotMessage, 'version' | 'index' | 'data'>): boolean {
    if (msg.index === 0) {
      this.#parts = [msg.data];
      this.#version = msg.version;
      this.#broken = false;
      return true;
    }
    if (this.#broken || msg.version !== this.#version || msg.index !== this.#parts.length) {
      this.#broken = true;
      return false;
    }
    this.#parts.push(msg.data);
    return true;
  }

  /** The snapshot once every announced piece is in (then resets), else undefined. Throws on bad JSON. */
  take(): { readonly state: unknown } | undefined {
    const e = this.#expected;
    if (!e || this.#broken || this.#version !== e.version || this.#parts.length !== e.count) return undefined;
    const text = this.#parts.join('');
    this.reset();
    return { state: JSON.parse(text) as unknown };
  }
}
