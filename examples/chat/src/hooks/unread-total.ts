/**
 * Unread counts of the rooms shown in the sidebar, summed for the tab title
 * and the mobile menu button. Each room link reports its own count (derived
 * from its room document); this only adds them up.
 */
const counts = new Map<string, number>();
let total = 0;
const listeners = new Set<() => void>();

function recompute(): void {
  let sum = 0;
  for (const n of counts.values()) sum += n;
  if (sum === total) return;
  total = sum;
  for (const l of [...listeners]) l();
}

/** External store of the total unread count (`current` + `subscribe`). */
export const unreadTotal = {
  get current(): number {
    return total;
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  /** Sets one room's count. */
  set(room: string, count: number): void {
    counts.set(room, count);
    recompute();
  },
  /** Forgets a room. */
  remove(room: string): void {
    counts.delete(room);
    recompute();
  },
};
