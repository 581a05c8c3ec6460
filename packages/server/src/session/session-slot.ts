/**
 * A typed key for one feature's state on a session. The feature that defines
 * a slot owns it: it alone reads and writes the value, through
 * `session.slot(key)` (created on first use with `create`), `session.peek(key)`
 * (without creating it), `session.setSlot(key, value)` and
 * `session.clearSlot(key)`. Two slots never collide, whatever their names:
 * the key is the object, the name only labels it for debugging.
 */
export interface SessionSlot<T extends object> {
  /** What the slot holds, for debugging (not a lookup key). */
  readonly name: string;
  /** Makes the value of a session that has none yet. */
  readonly create: () => T;
}

/**
 * Defines a per-session slot of type `T` (an object, so an empty slot is
 * `undefined`), made by `create` the first time a session reads it.
 * Define it once at module level, in the feature's folder.
 */
export function defineSlot<T extends object>(name: string, create: () => T): SessionSlot<T> {
  return Object.freeze({ name, create });
}
