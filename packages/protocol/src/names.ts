/** Longest channel or document name, in characters. */
export const MAX_NAME_LENGTH = 255;

const NAME_RE = /^([a-z0-9_-]{1,64}):([A-Za-z0-9_\-.:@=,/+]{1,190})$/;

/** A parsed `namespace:rest` name. */
export interface ParsedName {
  readonly namespace: string;
  readonly rest: string;
}

/**
 * Parses a channel or document name `namespace:rest`. The namespace is
 * lowercase letters, digits, `_` and `-`; the rest may also hold
 * `. : @ = , / +` and uppercase letters. Returns undefined when malformed.
 */
export function parseName(name: string): ParsedName | undefined {
  if (name.length > MAX_NAME_LENGTH) return undefined;
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  return { namespace: m[1] as string, rest: m[2] as string };
}
