import { codeBlocks } from './code-blocks.js';

/** A `curl` command of a doc and the answer the doc shows after it. */
export interface CurlExample {
  /** `doc:line` of the command. */
  readonly where: string;
  /** The command as written (continuation lines included). */
  readonly command: string;
  /** The `# …` lines after it, joined, or undefined when the doc shows none. */
  readonly answer: string | undefined;
}

/** Every `curl` command of the doc's ```sh blocks, in order. */
export function curlExamples(doc: string): CurlExample[] {
  const examples: CurlExample[] = [];
  for (const block of codeBlocks(doc)) {
    if (block.lang !== 'sh') continue;
    const lines = block.code.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!(lines[i] as string).startsWith('curl ')) continue;
      const start = i;
      while ((lines[i] as string).endsWith('\\') && i + 1 < lines.length) i++;
      const command = lines.slice(start, i + 1).join('\n');
      const answer: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1] as string).startsWith('#')) {
        i++;
        answer.push((lines[i] as string).replace(/^#\s?/, ''));
      }
      examples.push({
        where: `${doc}:${block.line + start}`,
        command,
        answer: answer.length > 0 ? answer.join('') : undefined,
      });
    }
  }
  return examples;
}

/** Stands for "anything" (a value), "more keys" (as a key) or "more elements" (in an array). */
export const ELLIPSIS = '…';

/**
 * Parses an answer as the docs write it: JSON in which `…` outside strings
 * stands for any value, more keys (`{"a":1,…}`) or more elements (`[…]`).
 */
export function parseShownJson(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    if (c !== ELLIPSIS) {
      out += c;
      continue;
    }
    const before = out.trimEnd().at(-1);
    const after = text.slice(i + 1).trimStart()[0];
    const isKey = (before === ',' || before === '{') && after === '}';
    out += isKey ? `"${ELLIPSIS}":"${ELLIPSIS}"` : `"${ELLIPSIS}"`;
  }
  return JSON.parse(out);
}

/**
 * Where `actual` differs from the shape the doc shows (empty when it fits):
 * numbers and strings holding `…` match by type, other strings, booleans and
 * null by value; an object needs exactly the keys shown unless it shows `…`;
 * an array needs the elements shown, and no more unless it shows `…`.
 */
export function shapeProblems(shown: unknown, actual: unknown, path = '$'): string[] {
  if (shown === ELLIPSIS) return [];
  const got = JSON.stringify(actual);
  if (typeof shown === 'number') return typeof actual === 'number' ? [] : [`${path}: wanted a number, got ${got}`];
  if (typeof shown === 'string' && shown.includes(ELLIPSIS)) {
    return typeof actual === 'string' ? [] : [`${path}: wanted a string, got ${got}`];
  }
  if (shown === null || typeof shown !== 'object') {
    return shown === actual ? [] : [`${path}: wanted ${JSON.stringify(shown)}, got ${got}`];
  }
  if (Array.isArray(shown)) {
    if (!Array.isArray(actual)) return [`${path}: wanted an array, got ${got}`];
    const open = shown.includes(ELLIPSIS);
    const items = shown.filter((x) => x !== ELLIPSIS);
    if (actual.length < items.length || (!open && actual.length !== items.length)) {
      return [`${path}: wanted ${open ? 'at least ' : ''}${items.length} elements, got ${got}`];
    }
    return items.flatMap((x, i) => shapeProblems(x, actual[i], `${path}[${i}]`));
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
    return [`${path}: wanted an object, got ${got}`];
  }
  const want = shown as Record<string, unknown>;
  const have = actual as Record<string, unknown>;
  const problems = Object.keys(want)
    .filter((k) => k !== ELLIPSIS)
    .flatMap((k) =>
      k in have ? shapeProblems(want[k], have[k], `${path}.${k}`) : [`${path}.${k}: missing in ${got}`],
    );
  if (!(ELLIPSIS in want)) {
    for (const k of Object.keys(have))
      if (!(k in want)) problems.push(`${path}.${k}: not shown in the doc, got ${got}`);
  }
  return problems;
}
