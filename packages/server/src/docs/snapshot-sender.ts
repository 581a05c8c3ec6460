import type { DocSubscribeResult } from '@syncline/protocol';
import type { Session } from '../session/session.js';
import { defineSlot } from '../session/session-slot.js';

/** Largest piece of a snapshot's JSON text in one `doc.snapshot` push, characters. */
export const SNAPSHOT_CHUNK_MAX_CHARS = 64 * 1024;
/** Smallest piece, characters (whatever `maxQueueBytes` is). */
export const SNAPSHOT_CHUNK_MIN_CHARS = 1024;
/** How often a paced snapshot looks whether the connection has drained, ms. */
export const SNAPSHOT_PACE_INTERVAL_MS = 5;

/** The document's state when the reply was computed. */
export interface SnapshotSource {
  readonly state: unknown;
  /** Its JSON size, bytes (the engine's running measure). */
  readonly bytes: number;
}

interface Send {
  cancelled: boolean;
}

/** The snapshots on their way to a session, by document. */
const SNAPSHOT_SENDS_SLOT = defineSlot<Map<string, Send>>('docSnapshotSends', () => new Map());

function sends(session: Session): Map<string, Send> {
  return session.slot(SNAPSHOT_SENDS_SLOT);
}

/** Stops sending the pieces of a snapshot still on its way to `session` (unsubscribe, resubscribe). */
export function cancelSnapshot(session: Session, doc: string): void {
  const map = session.peek(SNAPSHOT_SENDS_SLOT);
  const send = map?.get(doc);
  if (!send) return;
  send.cancelled = true;
  map?.delete(doc);
}

/** Size of the pieces for a connection with this queue limit, characters. */
export function snapshotChunkChars(maxQueueBytes: number): number {
  return Math.max(SNAPSHOT_CHUNK_MIN_CHARS, Math.min(SNAPSHOT_CHUNK_MAX_CHARS, Math.floor(maxQueueBytes / 8)));
}

/**
 * Answers a `doc.subscribe`. A snapshot larger than one piece goes to a
 * client that accepts chunks as a reply with `chunks: n` followed by `n`
 * `doc.snapshot` pushes, each queued only while the connection's send queue
 * is below half of `maxQueueBytes`: a snapshot of any size reaches a client
 * that reads, and never makes it a slow consumer by itself. Patches
 * published meanwhile are queued as usual (the client holds them until the
 * snapshot is complete).
 */
export function replySubscribe(
  session: Session,
  request: { readonly id: number; readonly doc: string; readonly chunks?: boolean | undefined },
  result: DocSubscribeResult,
  source: SnapshotSource,
  maxQueueBytes: number,
): void {
  cancelSnapshot(session, request.doc);
  const chunkChars = snapshotChunkChars(maxQueueBytes);
  // A client far behind would get more ops than its queue holds in one reply:
  // the current state (in pieces if needed) serves it as well, and is bounded.
  if (request.chunks === true && result.ops !== undefined && result.ops.length > 0) {
    const opsChars = JSON.stringify(result.ops).length;
    if (opsChars > chunkChars && (opsChars > source.bytes || opsChars > maxQueueBytes / 4)) {
      result = { version: result.version, snapshot: source.state, lastMutationId: result.lastMutationId };
    }
  }
  if (result.snapshot === undefined || request.chunks !== true || source.bytes <= chunkChars) {
    session.reply(request.id, result);
    return;
  }
  const text = JSON.stringify(result.snapshot);
  const pieces = split(text, chunkChars);
  session.reply(request.id, { version: result.version, lastMutationId: result.lastMutationId, chunks: pieces.length });
  const send: Send = { cancelled: false };
  sends(session).set(request.doc, send);
  let next = 0;
  const pump = (): void => {
    while (next < pieces.length) {
      if (send.cancelled || session.closed) return;
      const data = pieces[next] as string;
      if (session.queuedBytes + data.length > maxQueueBytes / 2) {
        setTimeout(pump, SNAPSHOT_PACE_INTERVAL_MS).unref();
        return;
      }
      session.send({ type: 'doc.snapshot', doc: request.doc, version: result.version, index: next, data });
      next++;
    }
    if (sends(session).get(request.doc) === send) sends(session).delete(request.doc);
  };
  pump();
}

/** Cuts text into pieces of at most `size` characters, never inside a surrogate pair. */
function split(text: string, size: number): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < text.length) {
    let end = Math.min(text.length, at + size);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}
