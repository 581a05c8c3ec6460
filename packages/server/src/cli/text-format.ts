import { CELL_MAX_CHARS } from './inspect-limits.js';

/**
 * Makes text safe for a terminal: control characters (escape sequences
 * included, C1 ones too) become `\uXXXX`, so data written by users cannot
 * move the cursor, change colours or retitle the window.
 */
export function terminalSafe(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** JSON for a terminal: `JSON.stringify` escapes C0 controls; this also escapes C1 ones (still valid JSON). */
export function safeJson(value: unknown, indent?: number): string {
  return terminalSafe(JSON.stringify(value, null, indent) ?? 'null');
}

/** A cell of a table: one line, terminal-safe, cut at `max` characters with `…`. */
export function cell(value: unknown, max = CELL_MAX_CHARS): string {
  const text = terminalSafe(typeof value === 'string' ? value : (JSON.stringify(value) ?? '')).replace(/[\n\t]/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A time in ms since the epoch as an ISO string (or `-`). */
export function isoTime(ms: unknown): string {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : '-';
}

/** Lays out rows under headers in columns separated by two spaces. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
