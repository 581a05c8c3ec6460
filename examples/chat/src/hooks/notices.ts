/**
 * Short messages for the user about actions that did not go through (a room
 * that could not be created, a reaction refused, a limit reached). Kept
 * outside React, like the failed messages; each one disappears on its own.
 */

/** How long a notice stays, ms. */
export const NOTICE_MS = 6_000;

/** A notice on screen. */
export interface Notice {
  readonly id: number;
  readonly text: string;
}

let current: readonly Notice[] = [];
let nextId = 1;
const listeners = new Set<() => void>();

function set(next: readonly Notice[]): void {
  current = next;
  for (const l of [...listeners]) l();
}

/** External store of notices (`current` + `subscribe`). */
export const notices = {
  get current(): readonly Notice[] {
    return current;
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  /** Shows `text` for `NOTICE_MS` (the same text twice in a row shows once). */
  add(text: string): void {
    if (current.some((n) => n.text === text)) return;
    const id = nextId++;
    set([...current, { id, text }].slice(-3));
    setTimeout(() => notices.remove(id), NOTICE_MS);
  },
  remove(id: number): void {
    if (current.some((n) => n.id === id)) set(current.filter((n) => n.id !== id));
  },
};

/**
 * What to tell the user about a refused mutation: the mutator's own reason
 * (a limit of the chat, such as a full lobby), the first problem with the
 * input, or the server's limit on a document's size.
 */
export function refusalText(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (e?.code === 'doc_too_large') return 'This is too much for this room or lobby: the server refused to store it.';
  if (e?.code === 'mutation_timeout') return 'The server took too long to apply this and gave up.';
  if (e?.code === 'mutation_failed') return message.replace(/^Mutator "[^"]*" failed: /, '');
  if (e?.code === 'invalid_args') return message.replace(/^Invalid args for "[^"]*": /, '');
  return message;
}
