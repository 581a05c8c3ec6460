import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Root of the repository. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** A fenced code block of a Markdown file. */
export interface CodeBlock {
  /** The Markdown file, relative to the repository root (`docs/react.md`). */
  readonly doc: string;
  /** The fence's language (`ts`, `tsx`, `sh` …). */
  readonly lang: string;
  /** Line of the doc (1-based) that holds the block's first line of code. */
  readonly line: number;
  /** The code, without the fences. */
  readonly code: string;
  /**
   * The HTML comment right above the fence (only blank lines between), without
   * `<!--` and `-->`, or undefined. It carries the block's marks: see
   * test/examples-typecheck.test.ts.
   */
  readonly comment: string | undefined;
  /** Line of the doc where that comment's text starts. */
  readonly commentLine: number;
}

/** A hidden file of a doc: `<!-- file: NAME` … `-->` anywhere in it. */
export interface HiddenFile {
  readonly doc: string;
  readonly name: string;
  /** Line of the doc where the file's first line of code is. */
  readonly line: number;
  readonly code: string;
}

/** README.md and every docs/*.md, relative to the repository root. */
export function docFiles(): string[] {
  const docs = readdirSync(join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

/** The fenced code blocks of one Markdown file, in order. */
export function codeBlocks(doc: string): CodeBlock[] {
  const lines = readFileSync(join(REPO_ROOT, doc), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  let comment: { text: string; line: number; end: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] as string;
    if (text.startsWith('<!--')) {
      const start = i;
      while (i < lines.length && !(lines[i] as string).includes('-->')) i++;
      const body = lines.slice(start, i + 1).join('\n');
      comment = { text: body.replace(/^<!--/, '').replace(/-->\s*$/, ''), line: start + 1, end: i };
      continue;
    }
    const fence = /^```(\S*)\s*$/.exec(text);
    if (!fence) continue;
    const lang = fence[1] as string;
    const first = i + 1;
    i++;
    while (i < lines.length && !/^```\s*$/.test(lines[i] as string)) i++;
    const blank = comment !== undefined && lines.slice(comment.end + 1, first - 1).every((l) => l.trim() === '');
    const attached = comment !== undefined && blank ? comment : undefined;
    blocks.push({
      doc,
      lang,
      line: first + 1,
      code: lines.slice(first, i).join('\n'),
      comment: attached?.text,
      commentLine: attached?.line ?? first,
    });
    comment = undefined;
  }
  return blocks;
}

/** The hidden files of one Markdown file (`<!-- file: shared/model.ts` then code, then `-->`). */
export function hiddenFiles(doc: string): HiddenFile[] {
  const text = readFileSync(join(REPO_ROOT, doc), 'utf8');
  const files: HiddenFile[] = [];
  for (const m of text.matchAll(/<!-- file: (\S+)\n([\s\S]*?)-->/g)) {
    const line = text.slice(0, m.index).split('\n').length + 1;
    files.push({ doc, name: m[1] as string, line, code: m[2] as string });
  }
  return files;
}
