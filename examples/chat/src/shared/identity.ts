/**
 * How a user looks and which names the sign-in takes. User ids are
 * case-sensitive ("Ada" and "ada" are two people), so nothing here folds case.
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

/** Longest name the dev sign-in takes (the server's limit). */
export const MAX_NAME = 32;

/** The names the dev sign-in takes, as the server checks them (`POST /dev/token`). */
const NAME_RULE = /^[\p{L}\p{N} _.-]+$/u;

/** The rule in words, for the sign-in form. */
export const NAME_HINT = `Up to ${MAX_NAME} letters, digits, spaces, "_", "." or "-". No emoji or other symbols.`;

/** The name the form sends: trimmed and in composed form (an accent typed as a separate mark is merged). */
export function normalizeName(name: string): string {
  return name.normalize('NFC').trim();
}

/** Why the server would refuse `name` (after `normalizeName`), or undefined when it takes it. */
export function nameProblem(name: string): string | undefined {
  const n = normalizeName(name);
  if (n === '') return 'Enter a name.';
  if (Array.from(n).length > MAX_NAME) return `Names are at most ${MAX_NAME} characters.`;
  if (!NAME_RULE.test(n)) {
    // Name the visible offenders (not the joiners and modifiers inside an emoji).
    const bad = new Set(Array.from(n).filter((ch) => !NAME_RULE.test(ch) && !/[\p{M}\p{Cf}\p{Sk}]/u.test(ch)));
    const which = bad.size === 0 ? '' : ` ${[...bad].join(' ')} ${bad.size === 1 ? 'is' : 'are'} not allowed.`;
    return `Names can only use letters, digits, spaces, "_", "." or "-".${which}`;
  }
  return undefined;
}
