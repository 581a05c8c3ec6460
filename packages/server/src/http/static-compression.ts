import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

/** A content coding the static files are offered in, best first. */
export type StaticEncoding = 'br' | 'gzip';

/** Files under this size are sent as they are: compressing them saves little. */
export const COMPRESS_MIN_BYTES = 1024;

/** Files over this size are only sent compressed when a precompressed `.br`/`.gz` sits next to them. */
export const COMPRESS_MAX_FILE_BYTES = 4 * 1024 * 1024;

/** Bytes of compressed files kept in memory (least recently used go first). */
export const COMPRESS_CACHE_BYTES = 32 * 1024 * 1024;

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Content types worth compressing (text; images and fonts are compressed already). */
export function isCompressible(contentType: string): boolean {
  return /^(text\/|application\/(json|javascript|xml|manifest\+json)|image\/svg\+xml)/.test(contentType);
}

/** The codings an `Accept-Encoding` header allows, best first (`q=0` refuses one). */
export function acceptedEncodings(header: string | undefined): StaticEncoding[] {
  if (!header) return [];
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam === undefined ? 1 : Number(qParam.slice(2));
    q.set(name, Number.isFinite(value) ? value : 0);
  }
  const star = q.get('*');
  return (['br', 'gzip'] as const).filter((e) => (q.get(e) ?? star ?? 0) > 0);
}

/**
 * Compressed copies of static files, made on first request and kept in memory
 * up to {@link COMPRESS_CACHE_BYTES}. A file's copy is keyed by its path, size
 * and modification time, so a rebuilt file is compressed again. Concurrent
 * requests for the same copy share one compression.
 */
export class CompressedFiles {
  readonly #entries = new Map<string, Promise<Buffer | null>>();
  readonly #sizes = new Map<string, number>();
  #bytes = 0;

  /**
   * The file compressed with `encoding`, or null when compressing does not make
   * it smaller. The caller checks the size bounds first.
   */
  get(file: string, size: number, mtimeMs: number, encoding: StaticEncoding): Promise<Buffer | null> {
    const key = `${encoding}\0${size}\0${mtimeMs}\0${file}`;
    const hit = this.#entries.get(key);
    if (hit) {
      // Most recently used last.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const made = this.#compress(file, size, encoding);
    this.#entries.set(key, made);
    made.then(
      (buf) => this.#account(key, buf?.length ?? 0),
      () => this.#entries.delete(key),
    );
    return made;
  }

  async #compress(file: string, size: number, encoding: StaticEncoding): Promise<Buffer | null> {
    const raw = await readFile(file);
    const out =
      encoding === 'br'
        ? await brotli(raw, {
            params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: size },
          })
        : await gzipAsync(raw, { level: 6 });
    return out.length < raw.length ? out : null;
  }

  #account(key: string, bytes: number): void {
    if (!this.#entries.has(key)) return;
    this.#sizes.set(key, bytes);
    this.#bytes += bytes;
    for (const oldest of this.#entries.keys()) {
      if (this.#bytes <= COMPRESS_CACHE_BYTES) break;
      const s = this.#sizes.get(oldest);
      if (s === undefined) continue; // still compressing
      this.#entries.delete(oldest);
      this.#sizes.delete(oldest);
      this.#bytes -= s;
    }
  }
}
