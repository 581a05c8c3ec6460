/** Longest JSON text shown in full, characters; longer values are cut with a note. */
const MAX_JSON_CHARS = 20_000;

/** A JSON value, indented, in a scrollable block (cut past {@link MAX_JSON_CHARS}). */
export function JsonView({ value }: { value: unknown }) {
  let text = JSON.stringify(value, null, 2) ?? 'undefined';
  const cut = text.length > MAX_JSON_CHARS;
  if (cut) text = text.slice(0, MAX_JSON_CHARS);
  return (
    <pre className="json">
      {text}
      {cut && <span className="json-cut">{'\n'}… (cut: the value is longer)</span>}
    </pre>
  );
}
