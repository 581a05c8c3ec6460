/**
 * Messages the server refused for good (the replica rolled them back). They
 * are kept here, outside React, so the timeline can show them with a retry
 * button. Nothing here is synced: it is this tab's own outbox of failures.
 */

/** A message that failed to send. */
export interface FailedMessage {
  readonly id: string;
  readonly room: string;
  readonly text: string;
  readonly error: string;
  readonly ts: number;
}

let current: readonly FailedMessage[] = [];
const listeners = new Set<() => void>();

function set(next: readonly FailedMessage[]): void {
  current = next;
  for (const l of [...listeners]) l();
}

/** External store of failed messages (`current` + `subscribe`). */
export const failedMessages = {
  get current(): readonly FailedMessage[] {
    return current;
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  add(m: FailedMessage): void {
    set([...current.filter((x) => x.id !== m.id), m]);
  },
  remove(id: string): void {
    if (current.some((x) => x.id === id)) set(current.filter((x) => x.id !== id));
  },
};
