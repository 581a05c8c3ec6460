/**
 * How a user looks. User ids are case-sensitive ("Ada" and "ada" are two
 * people), so nothing here folds case.
 */

const COLORS = [
  '#6366f1',
  '#ec4899',
  '#d97706',
  '#059669',
  '#0891b2',
  '#8b5cf6',
  '#ef4444',
  '#0d9488',
  '#3b82f6',
  '#c026d3',
  '#65a30d',
  '#ea580c',
];

/**
 * A stable avatar color per user id. Ids are case-sensitive, so the color is
 * of the exact id: a hash of the id in lower case picks a slot, and each
 * capital letter moves it one further. Two ids that differ only in case
 * ("Ada", "ada", "ADA") thus get different colors when their number of
 * capitals differs; when it does not, their initials or letters differ.
 */
export function colorOf(user: string): string {
  // FNV-1a over code points: small inputs still spread over the palette.
  let h = 0x811c9dc5;
  for (const ch of user.toLowerCase()) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 0x01000193) >>> 0;
  let capitals = 0;
  for (const ch of user) if (ch !== ch.toLowerCase()) capitals++;
  return COLORS[(h + capitals) % COLORS.length] as string;
}

/**
 * Up to two initials, as typed (no case folding, so "Ada" is "Ad" and "ada"
 * is "ad"): the first letters of the first two words, or the first two
 * characters of a single word. Whole characters, never half a surrogate pair.
 */
export function initialsOf(user: string): string {
  const words = user
    .trim()
    .split(/[\s._-]+/)
    .filter(Boolean)
    .map((w) => Array.from(w));
  const first = words[0];
  if (!first) return '?';
  const second = words.length > 1 ? words[1]?.[0] : first[1];
  return (first[0] ?? '') + (second ?? '');
}
