import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import type { SynclineServer } from '@syncline/server';
import { describe, expect, it } from 'vitest';
import { startServer, tempDir } from './helpers.js';

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** A GET (or HEAD) with the path sent exactly as given (no URL normalization), over a real socket. */
function raw(server: SynclineServer, path: string, headers: Record<string, string> = {}, method = 'GET') {
  const { port } = new URL(server.url);
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: Number(port), path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const SECRET_TEXT = 'top secret outside the static folder';
const INDEX = '<!doctype html><title>the app</title><div id="root"></div>';
const SCRIPT = `export const words = ${JSON.stringify(Array.from({ length: 400 }, (_, i) => `word-${i % 20}`))};\n`;
const STYLE = `${'body { margin: 0; padding: 0; color: #123456; }\n'.repeat(60)}`;
const HASHED = '/assets/index-Bx3k_9Qa.js';

/** A static folder like a Vite build, next to a file that must stay unreachable. */
function site(): string {
  const outer = tempDir();
  writeFileSync(join(outer, 'secret.txt'), SECRET_TEXT);
  const root = join(outer, 'site');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), INDEX);
  writeFileSync(join(root, HASHED), SCRIPT);
  writeFileSync(join(root, 'app.css'), STYLE);
  writeFileSync(join(root, 'app.css.gz'), gzipSync(STYLE, { level: 9 }));
  writeFileSync(join(root, '.env'), SECRET_TEXT);
  symlinkSync(join(outer, 'secret.txt'), join(root, 'link.txt'));
  return root;
}

describe('static files (--static)', () => {
  it('answers the node paths with the JSON 404, other unknown paths with index.html', async () => {
    const server = await startServer({ static: site() });
    for (const path of [
      '/v1/nope',
      '/v1',
      '/connect/nope',
      '/metrics/x',
      '/healthz/x',
      '/readyz/x',
      '/dev/x',
      '/%761/nope',
    ]) {
      const res = await raw(server, path);
      expect({ path, status: res.status, type: res.headers['content-type'] }).toEqual({
        path,
        status: 404,
        type: 'application/json; charset=utf-8',
      });
      expect(JSON.parse(res.body.toString())).toMatchObject({ error: { code: 'not_found' } });
    }
    for (const path of ['/', '/some/page', '/rooms/42']) {
      const res = await raw(server, path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(res.body.toString()).toBe(INDEX);
      expect(res.headers['cache-control']).toBe('no-cache');
    }
    // A missing file with an extension is a 404, not the page.
    expect((await raw(server, '/assets/missing-AAAAAAAA.js')).status).toBe(404);
    // The API still works beside the static files.
    expect((await raw(server, '/healthz')).status).toBe(200);
  });

  it('gives ETags and answers 304 to If-None-Match; hashed assets are immutable', async () => {
    const server = await startServer({ static: site() });
    const first = await raw(server, HASHED);
    expect(first.status).toBe(200);
    expect(first.body.toString()).toBe(SCRIPT);
    expect(first.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await raw(server, HASHED, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers.etag).toBe(etag);
    expect((await raw(server, HASHED, { 'if-none-match': '"other"' })).status).toBe(200);
    // Not hashed: revalidated every time.
    const css = await raw(server, '/app.css');
    expect(css.headers['cache-control']).toBe('no-cache');
    expect((await raw(server, '/app.css', { 'if-none-match': css.headers.etag as string })).status).toBe(304);
  });

  it('compresses with gzip or brotli when accepted, precompressed files first', async () => {
    const root = site();
    const server = await startServer({ static: root });
    const gz = await raw(server, HASHED, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toBe('accept-encoding');
    expect(gz.body.length).toBeLessThan(SCRIPT.length);
    expect(gunzipSync(gz.body).toString()).toBe(SCRIPT);
    const br = await raw(server, HASHED, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(SCRIPT);
    expect(br.headers.etag).not.toBe(gz.headers.etag);
    // The etag of any coding revalidates.
    expect((await raw(server, HASHED, { 'if-none-match': br.headers.etag as string })).status).toBe(304);
    // q=0 refuses a coding; no Accept-Encoding gets the file as it is.
    expect((await raw(server, HASHED, { 'accept-encoding': 'br;q=0, gzip' })).headers['content-encoding']).toBe('gzip');
    const plain = await raw(server, HASHED);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(SCRIPT);
    // A precompressed .gz next to the file is sent as it is.
    const pre = await raw(server, '/app.css', { 'accept-encoding': 'gzip' });
    expect(pre.headers['content-encoding']).toBe('gzip');
    expect(pre.body.equals(readFileSync(join(root, 'app.css.gz')))).toBe(true);
    // HEAD: the same headers, no body.
    const head = await raw(server, HASHED, { 'accept-encoding': 'gzip' }, 'HEAD');
    expect(head.headers['content-length']).toBe(String(gz.body.length));
    expect(head.body.length).toBe(0);
  });

  it('never serves anything outside the folder, dotfiles or links leading out', async () => {
    const server = await startServer({ static: site() });
    const attempts = [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/%2E%2E/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/%2e%2e%5csecret.txt',
      '/..%252fsecret.txt',
      '/secret.txt%00.html',
      '/.env',
      '/%2eenv',
      '/link.txt',
      '//secret.txt',
      '/%',
    ];
    for (const path of attempts) {
      const res = await raw(server, path);
      expect({ path, leaked: res.body.toString().includes(SECRET_TEXT) }).toEqual({ path, leaked: false });
      expect({ path, ok: res.status === 404 || res.status === 400 || res.body.toString() === INDEX }).toEqual({
        path,
        ok: true,
      });
    }
  });
});
