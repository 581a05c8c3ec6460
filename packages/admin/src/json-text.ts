/** Largest JSON text the console sends from a form, characters (the API refuses bodies over its own limit too). */
export const MAX_JSON_TEXT_CHARS = 65_536;

/** What a JSON text typed into a form holds: its value, or why it is not one. */
export type JsonText = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

/** Parses a JSON text typed into a form: empty, too long or malformed text is an error to show, never thrown. */
export function parseJsonText(text: string): JsonText {
  if (text.trim() === '') return { ok: false, error: 'Enter a JSON value, e.g. {"text":"hello"}.' };
  if (text.length > MAX_JSON_TEXT_CHARS) return { ok: false, error: `At most ${MAX_JSON_TEXT_CHARS} characters.` };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: `Not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}
