/**
 * Every TypeScript block (```ts, ```tsx, ```typescript) of README.md and
 * docs/*.md type-checks with the repository's strict settings
 * (tsconfig.base.json), against the built packages' declarations
 * (`npx tsc -b` first), the way an app that installed them sees them.
 *
 * How a block becomes a module:
 * - Each block is its own ES module in a folder shared by the blocks of its
 *   doc. A first line `// name.ts` (or `.tsx`, with folders: `// src/hooks.tsx`)
 *   names the file, so a later block can `import … from './name.js'`; other
 *   blocks get a generated name. A name used twice in one doc: the later block
 *   gets a generated name (imports resolve to the first).
 * - Names the docs use throughout without declaring them are ambient in every
 *   block: `client` (a SynclineClient), `server` (a SynclineServer), `token`
 *   (a string) and `fetchMyToken()` (the app's function that asks its backend
 *   for a token; the README explains it). See DOC_GLOBALS.
 * - An HTML comment right above a block's fence marks it (readers of the
 *   rendered doc do not see it):
 *   - `<!-- prelude: declare const room: PresenceChannel; -->`: TypeScript put
 *     before the block (imports allowed; may span lines). For the few names a
 *     fragment takes from its surrounding text.
 *   - `<!-- not-checked: reason -->`: the block is not checked. Keep these rare:
 *     a declaration excerpt (an interface shown for reading) is the use.
 * - `<!-- file: NAME` + code + `-->` anywhere in a doc adds a hidden file to the
 *   doc's folder (e.g. the mutators an example imports from `./board.js`).
 *
 * A failure lists `doc:line` (the line of the doc) and the diagnostic.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { type CodeBlock, codeBlocks, docFiles, hiddenFiles, REPO_ROOT } from './docs/code-blocks.js';
import { defer } from './helpers.js';

const TS_LANGS: ReadonlySet<string> = new Set(['ts', 'tsx', 'typescript']);

/** Ambient names of every block (see the file comment). */
const DOC_GLOBALS = `
declare const client: import('@syncline/client').SynclineClient;
declare const server: import('@syncline/server').SynclineServer;
declare const token: string;
declare function fetchMyToken(): Promise<string>;
`;

/** Where a line of a generated file comes from in the docs. */
interface Origin {
  readonly doc: string;
  /** Doc line of the file's line 0 (after the prelude). */
  readonly line: number;
  /** Lines of prelude before the block's code. */
  readonly preludeLines: number;
  /** Doc line reported for a problem in the prelude. */
  readonly preludeLine: number;
}

/** Marks of a block: its prelude, or why it is not checked. */
function marksOf(block: CodeBlock): { prelude: string; skip: string | undefined } {
  const comment = block.comment?.trim() ?? '';
  const skip = /^not-checked:\s*(.*)$/s.exec(comment);
  if (skip) {
    const reason = (skip[1] as string).trim();
    if (reason === '') throw new Error(`${block.doc}:${block.line}: not-checked needs a reason`);
    return { prelude: '', skip: reason };
  }
  const prelude = /^prelude:\s*(.*)$/s.exec(comment);
  return { prelude: prelude ? (prelude[1] as string).trim() : '', skip: undefined };
}

/** A slug for a doc's folder (`docs/react.md` → `docs-react`). */
function folderOf(doc: string): string {
  return doc.replace(/\.md$/, '').replace(/[^\w]+/g, '-');
}

/** Writes every block and hidden file; returns the files to check and where their lines come from. */
function writeExamples(root: string): { files: string[]; origins: Map<string, Origin>; skipped: string[] } {
  const files: string[] = [];
  const origins = new Map<string, Origin>();
  const skipped: string[] = [];
  const write = (file: string, text: string, origin: Origin): void => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    files.push(file);
    origins.set(file, origin);
  };
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(root, 'doc-globals.d.ts'), DOC_GLOBALS);
  files.push(join(root, 'doc-globals.d.ts'));
  for (const doc of docFiles()) {
    const folder = join(root, folderOf(doc));
    const used = new Set<string>();
    for (const hidden of hiddenFiles(doc)) {
      used.add(hidden.name);
      write(join(folder, hidden.name), hidden.code, {
        doc,
        line: hidden.line,
        preludeLines: 0,
        preludeLine: hidden.line,
      });
    }
    for (const block of codeBlocks(doc)) {
      if (!TS_LANGS.has(block.lang)) continue;
      const { prelude, skip } = marksOf(block);
      if (skip !== undefined) {
        skipped.push(`${doc}:${block.line} (${skip})`);
        continue;
      }
      const named = /^\/\/ ([\w./-]+\.tsx?)\s*$/.exec(block.code.split('\n')[0] ?? '')?.[1];
      const ext = block.lang === 'tsx' ? 'tsx' : 'ts';
      const name = named !== undefined && !used.has(named) ? named : `block-${block.line}.${ext}`;
      used.add(name);
      const preludeLines = prelude === '' ? 0 : prelude.split('\n').length;
      const text = `${prelude === '' ? '' : `${prelude}\n`}${block.code}\nexport {};\n`;
      write(join(folder, name), text, { doc, line: block.line, preludeLines, preludeLine: block.commentLine });
    }
  }
  return { files, origins, skipped };
}

/** The repository's compiler options, for checking only. */
function compilerOptions(root: string): ts.CompilerOptions {
  const base = ts.readConfigFile(join(REPO_ROOT, 'tsconfig.base.json'), ts.sys.readFile);
  if (base.error) throw new Error(ts.flattenDiagnosticMessageText(base.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(base.config, ts.sys, root);
  return {
    ...parsed.options,
    noEmit: true,
    composite: false,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    incremental: false,
    jsx: ts.JsxEmit.ReactJSX,
  };
}

/** `doc:line: TS1234 message` for a diagnostic of a generated file. */
function describeDiagnostic(d: ts.Diagnostic, origins: Map<string, Origin>, root: string): string {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
  if (d.file === undefined || d.start === undefined) return `TS${d.code} ${message}`;
  const { line } = d.file.getLineAndCharacterOfPosition(d.start);
  const origin = origins.get(d.file.fileName);
  if (origin === undefined) return `${relative(root, d.file.fileName)}:${line + 1}: TS${d.code} ${message}`;
  const where =
    line < origin.preludeLines
      ? `${origin.doc}:${origin.preludeLine} (prelude)`
      : `${origin.doc}:${origin.line + line - origin.preludeLines}`;
  return `${where}: TS${d.code} ${message}`;
}

describe('the docs’ TypeScript examples', () => {
  it('type-check, strict, against the built packages', () => {
    // Inside the repository so that @syncline/*, react and valibot resolve from its node_modules.
    const cache = join(REPO_ROOT, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    const root = mkdtempSync(join(cache, 'docs-examples-'));
    defer(() => rmSync(root, { recursive: true, force: true }));
    const { files, origins, skipped } = writeExamples(root);
    expect(files.length).toBeGreaterThan(20);
    expect(skipped.length, `blocks marked not-checked: ${skipped.join(', ')}`).toBeLessThanOrEqual(3);

    const program = ts.createProgram({ rootNames: files, options: compilerOptions(root) });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => describeDiagnostic(d, origins, root));
    expect(problems, `doc examples that fail to type-check:\n${problems.join('\n')}`).toEqual([]);
  }, 60_000);
});
