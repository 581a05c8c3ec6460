/** The request id of a decoded command, when it has a valid one (a positive safe integer). */
export function requestIdOf(item: unknown): number | undefined {
  const id = typeof item === 'object' && item !== null && 'id' in item ? item.id : undefined;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/**
 * The request ids of a decoded frame that is refused unprocessed: those of its
 * first `maxCommands` commands that have a valid one.
 */
export function requestIdsOf(decoded: unknown, maxCommands: number): number[] {
  const items: unknown[] = Array.isArray(decoded) ? decoded.slice(0, maxCommands) : [decoded];
  const ids: number[] = [];
  for (const item of items) {
    const id = requestIdOf(item);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}
