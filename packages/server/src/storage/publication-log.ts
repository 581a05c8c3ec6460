import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';

/** One publication as the log holds it. */
export interface LoggedPublication {
  readonly channel: string;
  readonly epoch: string;
  readonly offset: number;
  readonly ts: number;
  readonly user: string | null;
  readonly key: string | null;
  /** Kept in history (false in a namespace that keeps none: only its offset and key count). */
  readonly kept: boolean;
  /** The JSON text of its data: always when kept, otherwise only if someone needs it (append listeners). */
  readonly text: string | undefined;
}

/** What a log held when it was opened. */
export interface LogContents {
  /** Its records, oldest first. */
  readonly records: LoggedPublication[];
  /** Lines that did not read as a record (a write torn by a power loss), skipped. */
  readonly skipped: number;
}

/**
 * One log line: `[channel, epoch, offset, ts, user, key, kept (0/1), data]`, the
 * data's stored JSON text last and as is (it is already JSON), so that
 * writing a record costs little more than concatenating it.
 */
export function logLine(p: LoggedPublication): string {
  return `[${JSON.stringify(p.channel)},${JSON.stringify(p.epoch)},${p.offset},${p.ts},${
    p.user === null ? 'null' : JSON.stringify(p.user)
  },${p.key === null ? 'null' : JSON.stringify(p.key)},${p.kept ? 1 : 0},${p.text ?? 'null'}]\n`;
}

function recordOf(line: string): LoggedPublication | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || v.length !== 8) return undefined;
  const [channel, epoch, offset, ts, user, key, kept, data] = v as unknown[];
  if (typeof channel !== 'string' || typeof epoch !== 'string') return undefined;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(ts)) return undefined;
  if ((user !== null && typeof user !== 'string') || (key !== null && typeof key !== 'string')) return undefined;
  if (kept !== 0 && kept !== 1) return undefined;
  return {
    channel,
    epoch,
    offset: offset as number,
    ts: ts as number,
    user: user as string | null,
    key: key as string | null,
    kept: kept === 1,
    text: kept === 1 || data !== null ? JSON.stringify(data) : undefined,
  };
}

/**
 * The embedded history's append log: each turn's publications are written
 * to it with one `write` before they are acknowledged, and moved into the
 * SQLite database in bulk behind it (`SqliteHistory`), which then empties
 * it. A write that returned is in the operating system's cache, so it
 * survives a kill of the process, as a WAL commit with `synchronous =
 * NORMAL` does; what the log holds when a process starts is what the last
 * one acknowledged but had not yet moved.
 */
export class PublicationLog {
  readonly #fd: number;
  /** Bytes in the file: a failed write is cut back to this, so that no torn line sits before later ones. */
  #size: number;

  constructor(file: string) {
    this.#fd = openSync(file, 'a+');
    this.#size = fstatSync(this.#fd).size;
  }

  /** The records in the file (those a previous process left). */
  read(): LogContents {
    const records: LoggedPublication[] = [];
    let skipped = 0;
    if (this.#size === 0) return { records, skipped };
    for (const line of readFileSync(this.#fd, 'utf8').split('\n')) {
      if (line === '') continue;
      const r = recordOf(line);
      if (r === undefined) skipped++;
      else records.push(r);
    }
    return { records, skipped };
  }

  /** Writes `text` (whole lines) at the end; throws, leaving the file as it was, if it cannot. */
  append(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.#fd, bytes, done, bytes.length - done);
    } catch (err) {
      if (done > 0) ftruncateSync(this.#fd, this.#size);
      throw err;
    }
    this.#size += bytes.length;
  }

  /** Empties the file (everything in it is in the database). */
  clear(): void {
    if (this.#size === 0) return;
    ftruncateSync(this.#fd, 0);
    this.#size = 0;
  }

  close(): void {
    closeSync(this.#fd);
  }
}
