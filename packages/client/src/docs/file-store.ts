import type { ReplicaRecord, ReplicaStore } from './replica-store.js';

interface FsPromises {
  mkdir(path: string, options: { recursive: boolean }): Promise<unknown>;
  readFile(path: string, encoding: 'utf8'): Promise<string>;
  open(
    path: string,
    flags: string,
  ): Promise<{ writeFile(data: string): Promise<void>; sync(): Promise<void>; close(): Promise<void> }>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: boolean }): Promise<void>;
}

let fsImport: Promise<FsPromises> | undefined;

function fs(): Promise<FsPromises> {
  // Loaded lazily so that browser bundles never pull in Node's fs.
  const name = 'node:fs/promises';
  fsImport ??= import(/* @vite-ignore */ name) as Promise<FsPromises>;
  return fsImport;
}

/**
 * A store of JSON files in a folder (Node): one file per document, written
 * to a temporary file, flushed to disk and renamed, so a crash leaves the
 * previous or the new record, never a torn one.
 */
export function fileStore(dir: string): ReplicaStore {
  const path = (doc: string): string => `${dir.replace(/\/+$/, '')}/${encodeURIComponent(doc)}.json`;
  let ready: Promise<unknown> | undefined;
  let seq = 0;
  const token = Math.random().toString(36).slice(2, 10);
  return {
    async load(doc) {
      const f = await fs();
      try {
        return JSON.parse(await f.readFile(path(doc), 'utf8')) as ReplicaRecord;
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async save(doc, record) {
      const f = await fs();
      ready ??= f.mkdir(dir, { recursive: true });
      await ready;
      const tmp = `${path(doc)}.${token}.${++seq}.tmp`;
      const fh = await f.open(tmp, 'w');
      try {
        await fh.writeFile(JSON.stringify(record));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await f.rename(tmp, path(doc));
    },
    async remove(doc) {
      const f = await fs();
      await f.rm(path(doc), { force: true });
    },
  };
}
