import type { Session } from '../session/session.js';
import { defineSlot } from '../session/session-slot.js';
import type { DocFanout } from './doc-fanout.js';

/** The session slot of the documents a session is subscribed to. */
export const SESSION_DOCS_SLOT = defineSlot<Set<string>>('docs', () => new Set());

interface Entry {
  readonly sessions: Set<Session>;
  readonly off: () => void;
}

/**
 * Per-document sets of subscribed sessions on this node. The first
 * subscriber of a document makes the node listen to it on the fan-out; the
 * last one leaving stops that.
 */
export class DocSubscribers {
  readonly #fanout: DocFanout;
  readonly #byDoc = new Map<string, Entry>();
  readonly #onEmpty: (doc: string) => void;

  constructor(fanout: DocFanout, onEmpty: (doc: string) => void) {
    this.#fanout = fanout;
    this.#onEmpty = onEmpty;
  }

  /** Adds a session; patches published from now on reach it. */
  add(doc: string, session: Session): void {
    let e = this.#byDoc.get(doc);
    if (!e) {
      const sessions = new Set<Session>();
      const off = this.#fanout.listen(doc, (_message, frame) => {
        for (const s of sessions) s.sendShared(frame);
      });
      e = { sessions, off };
      this.#byDoc.set(doc, e);
    }
    e.sessions.add(session);
    session.slot(SESSION_DOCS_SLOT).add(doc);
  }

  /** Removes a session; returns false when it was not subscribed. */
  remove(doc: string, session: Session): boolean {
    session.peek(SESSION_DOCS_SLOT)?.delete(doc);
    const e = this.#byDoc.get(doc);
    if (!e?.sessions.delete(session)) return false;
    if (e.sessions.size === 0) {
      e.off();
      this.#byDoc.delete(doc);
      this.#onEmpty(doc);
    }
    return true;
  }

  /** True when the session receives the document. */
  has(doc: string, session: Session): boolean {
    return this.#byDoc.get(doc)?.sessions.has(session) ?? false;
  }

  /** Number of local subscribers of a document. */
  count(doc: string): number {
    return this.#byDoc.get(doc)?.sessions.size ?? 0;
  }

  /** Removes a closed session everywhere. */
  removeSession(session: Session): void {
    for (const doc of [...(session.peek(SESSION_DOCS_SLOT) ?? [])]) this.remove(doc, session);
  }
}
