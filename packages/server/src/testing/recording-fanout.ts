import type { DocPatchMessage } from '@syncline/protocol';
import type { DocFanout, DocPatchListener } from '../docs/doc-fanout.js';
import { SharedFrame } from '../session/shared-frame.js';

/**
 * A `DocFanout` for unit tests of the document engine: it keeps every
 * published `doc.patch` message, per document, in publication order (and
 * passes them on to listeners, as the in-process fan-out does). `dropVersion`
 * makes it lose one op, to check that a test notices.
 */
export class RecordingFanout implements DocFanout {
  readonly #listeners = new Map<string, Set<DocPatchListener>>();
  readonly #dropped = new Set<string>();
  /** Every message published, in order. */
  readonly published: DocPatchMessage[] = [];

  publish(message: DocPatchMessage): void {
    if (this.#dropped.has(`${message.doc}@${message.version}`)) return;
    this.published.push(message);
    const frame = new SharedFrame(message);
    for (const l of this.#listeners.get(message.doc) ?? []) l(message, frame);
  }

  listen(doc: string, listener: DocPatchListener): () => void {
    let set = this.#listeners.get(doc);
    if (!set) {
      set = new Set();
      this.#listeners.set(doc, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }

  /** Loses the op of `doc` at `version` (a planted fan-out bug). */
  dropVersion(doc: string, version: number): void {
    this.#dropped.add(`${doc}@${version}`);
  }

  /** Versions published for `doc`, in publication order. */
  versions(doc: string): number[] {
    return this.published.filter((m) => m.doc === doc).map((m) => m.version);
  }
}

/**
 * What is wrong with a document's published versions, against 1…`upTo` each
 * once and in order: `[]` when nothing is. Reads as a failure message
 * (`missing 5; out of order at 7 after 8`).
 */
export function versionProblems(versions: readonly number[], upTo: number): string[] {
  const problems: string[] = [];
  const seen = new Set(versions);
  const missing = Array.from({ length: upTo }, (_, i) => i + 1).filter((v) => !seen.has(v));
  if (missing.length > 0) problems.push(`missing ${missing.join(', ')}`);
  for (let i = 1; i < versions.length; i++) {
    const prev = versions[i - 1] as number;
    const v = versions[i] as number;
    if (v === prev) problems.push(`${v} twice`);
    else if (v < prev) problems.push(`out of order at ${v} after ${prev}`);
  }
  const extra = versions.filter((v) => v < 1 || v > upTo);
  if (extra.length > 0) problems.push(`unexpected ${extra.join(', ')}`);
  return problems;
}
