import { createReadStream, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, posix, resolve, sep } from 'node:path';
import {
  acceptedEncodings,
  COMPRESS_MAX_FILE_BYTES,
  COMPRESS_MIN_BYTES,
  CompressedFiles,
  isCompressible,
  type StaticEncoding,
} from './static-compression.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/**
 * Paths the node itself answers (the HTTP API, the HTTP transports, health,
 * metrics, dev routes, the operator console): static files are never served there, so an unknown
 * path under them gets the JSON `not_found`, never the web page.
 */
export const RESERVED_PATHS: readonly string[] = [
  '/v1',
  '/connect',
  '/metrics',
  '/healthz',
  '/readyz',
  '/dev',
  '/admin',
];

/** Whether a request path is one of {@link RESERVED_PATHS} or under one. */
export function isReservedPath(pathname: string): boolean {
  return RESERVED_PATHS.some((p) => pathname === p || pathname.startsWith(`${p}/`));
}

/** Names with a content hash, as Vite writes them (`assets/name-HASH.ext`, 8-character hash). */
const HASHED_ASSET = /(?:^|\/)assets\/[^/]+-[A-Za-z0-9_-]{8}\.[A-Za-z0-9]+$/;

/** Cache policy of a served file: hashed assets forever, everything else revalidated. */
export function cacheControlFor(relPath: string): string {
  if (HASHED_ASSET.test(relPath)) return 'public, max-age=31536000, immutable';
  return 'no-cache';
}

/** Entity tag of a file (size and modification time), per coding. */
function entityTag(info: Stats, encoding: StaticEncoding | undefined): string {
  const base = `${info.size.toString(36)}-${Math.floor(info.mtimeMs).toString(36)}`;
  return `"${encoding ? `${base}-${encoding}` : base}"`;
}

/** Whether `If-None-Match` names the file in any coding (weak comparison). */
function notModified(header: string | undefined, info: Stats): boolean {
  if (!header) return false;
  const base = entityTag(info, undefined).slice(1, -1);
  return header.split(',').some((raw) => {
    const t = raw.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
    return t === '*' || t === base || t === `${base}-br` || t === `${base}-gzip`;
  });
}

async function fileInfo(file: string): Promise<Stats | undefined> {
  const info = await stat(file).catch(() => undefined);
  return info?.isFile() ? info : undefined;
}

/**
 * Serves the files of one folder (GET and HEAD): `index.html` for `/` and a
 * folder, and for an unknown path without an extension (single-page apps),
 * except under {@link RESERVED_PATHS}. Files get an `ETag` (304 on a matching
 * `If-None-Match`), brotli or gzip when the client accepts it (a precompressed
 * `.br`/`.gz` next to the file, else compressed on first use and cached), and
 * `cache-control` from {@link cacheControlFor}. Nothing outside the folder is
 * reachable: `..`, encoded separators, NUL bytes, dotfiles and symbolic links
 * leading out are refused.
 */
export class StaticFiles {
  readonly #root: string;
  #realRoot: Promise<string> | undefined;
  readonly #compressed = new CompressedFiles();

  constructor(root: string) {
    this.#root = resolve(root);
  }

  /** Serves a request; false when nothing was served (the caller answers `not_found`). */
  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const rel = this.#relative(pathname);
    if (rel === undefined) return false;
    let file = join(this.#root, rel);
    let info = await stat(file).catch(() => undefined);
    if (info?.isDirectory()) {
      file = join(file, 'index.html');
      info = await fileInfo(file);
    }
    if (!info && extname(rel) === '') {
      file = join(this.#root, 'index.html');
      info = await fileInfo(file);
    }
    if (!info?.isFile() || !(await this.#inside(file))) return false;
    await this.#send(req, res, file, info);
    return true;
  }

  /** The request path as a path inside the folder, or undefined when it must not be served. */
  #relative(pathname: string): string | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
    const rel = posix.normalize(`/${decoded}`);
    if (isReservedPath(pathname) || isReservedPath(rel)) return undefined;
    // Dotfiles (.env, .git) are never served; `..` is gone after normalize, and checked again below.
    if (rel.split('/').some((s) => s.startsWith('.') && s !== '.well-known')) return undefined;
    const file = join(this.#root, rel);
    if (file !== this.#root && !file.startsWith(this.#root + sep)) return undefined;
    return rel;
  }

  /** Whether a file, symbolic links resolved, is still inside the folder. */
  async #inside(file: string): Promise<boolean> {
    this.#realRoot ??= realpath(this.#root);
    const [root, real] = await Promise.all([this.#realRoot, realpath(file).catch(() => undefined)]);
    return real !== undefined && (real === root || real.startsWith(root + sep));
  }

  async #send(req: IncomingMessage, res: ServerResponse, file: string, info: Stats): Promise<void> {
    const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const headers: Record<string, string | number> = {
      'content-type': type,
      'cache-control': cacheControlFor(file.slice(this.#root.length).split(sep).join('/')),
      'x-content-type-options': 'nosniff',
    };
    const compressible = isCompressible(type) && info.size >= COMPRESS_MIN_BYTES;
    if (compressible) headers.vary = 'accept-encoding';
    let body: Buffer | string = file;
    let encoding: StaticEncoding | undefined;
    let length = info.size;
    if (compressible) {
      for (const e of acceptedEncodings(req.headers['accept-encoding'])) {
        const pre = await fileInfo(`${file}.${e === 'br' ? 'br' : 'gz'}`);
        if (pre && pre.mtimeMs >= info.mtimeMs && (await this.#inside(`${file}.${e === 'br' ? 'br' : 'gz'}`))) {
          body = `${file}.${e === 'br' ? 'br' : 'gz'}`;
          length = pre.size;
          encoding = e;
          break;
        }
        if (info.size > COMPRESS_MAX_FILE_BYTES) continue;
        const buf = await this.#compressed.get(file, info.size, info.mtimeMs, e).catch(() => null);
        if (buf) {
          body = buf;
          length = buf.length;
          encoding = e;
          break;
        }
      }
    }
    headers.etag = entityTag(info, encoding);
    if (encoding) headers['content-encoding'] = encoding;
    if (notModified(req.headers['if-none-match'], info)) {
      delete headers['content-type'];
      delete headers['content-encoding'];
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers['content-length'] = length;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
    } else if (typeof body === 'string') {
      // A file removed while being sent ends the response early; nothing else to do.
      createReadStream(body)
        .on('error', () => res.destroy())
        .pipe(res);
    } else {
      res.end(body);
    }
  }
}
