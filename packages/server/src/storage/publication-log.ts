import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';

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
 * A record's text: `[channel, epoch, offset, ts, user, key, kept (0/1), data]`,
 * the data's stored JSON text last and as is (it is already JSON), so that
 * writing a record costs little more than concatenating it.
 */
export function recordText(p: LoggedPublication): string {
  return `[${JSON.stringify(p.channel)},${JSON.stringify(p.epoch)},${p.offset},${p.ts},${
    p.user === null ? 'null' : JSON.stringify(p.user)
  },${p.key === null ? 'null' : JSON.stringify(p.key)},${p.kept ? 1 : 0},${p.text ?? 'null'}]`;
}

function recordOf(text: string): LoggedPublication | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
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

/** One line of the log: `<generation> <crc32 of the record, hex> <record>\n`. */
function lineOf(generation: number, record: string): string {
  return `${generation} ${crc32(record).toString(16)} ${record}\n`;
}

/** A line's generation and record, or undefined when it is not a whole, intact line. */
function parseLine(line: string): { generation: number; record: LoggedPublication } | undefined {
  if (line.startsWith('[')) {
    // A line of an earlier version of the log (a record alone, appended): generation 0.
    const record = recordOf(line);
    return record === undefined ? undefined : { generation: 0, record };
  }
  const a = line.indexOf(' ');
  const b = a < 0 ? -1 : line.indexOf(' ', a + 1);
  if (b < 0) return undefined;
  const generation = Number(line.slice(0, a));
  const text = line.slice(b + 1);
  if (!Number.isSafeInteger(generation) || line.slice(a + 1, b) !== crc32(text).toString(16)) return undefined;
  const record = recordOf(text);
  return record === undefined ? undefined : { generation, record };
}

/** Bytes of the log file mapped into memory (the records of one move, ~200 ms, fit many times over). */
export const LOG_MAP_BYTES = 8 << 20;

/** The native addon (`packages/server/native`), when it was built: maps the log file into memory. */
const addon = ((): { map(fd: number, length: number): Buffer } | undefined => {
  try {
    return createRequire(import.meta.url)('../../native/build/Release/publog_map.node') as {
      map(fd: number, length: number): Buffer;
    };
  } catch {
    return undefined;
  }
})();

/** How a log writes: copies into the file mapped in memory, or `write(2)` calls. */
export type LogMode = 'map' | 'write';

/**
 * The embedded history's append log: each turn's publications are written
 * to it before they are acknowledged, and moved into the SQLite database in
 * bulk behind it (`SqliteHistory`), which then empties it. A record written
 * is in the operating system's cache, so it survives a kill of the process,
 * as a WAL commit with `synchronous = NORMAL` does; what the log holds when
 * a process starts is what the last one acknowledged but had not yet moved.
 *
 * With the native addon built, the first `LOG_MAP_BYTES` of the file are
 * reserved on disk and mapped into memory (`MAP_SHARED`): a record is a
 * copy into the kernel's page cache, without a system call (in chat rooms
 * of five, 5–8% less CPU per publication than a `write` per turn). Otherwise,
 * or when the file cannot be reserved or mapped, each append is a `write(2)`.
 *
 * Both write whole lines from the start of the file and empty it by
 * starting over at the start, so older lines may stay behind the current
 * ones. Each line carries a generation (higher than any in the file when
 * the log was opened, one more at each emptying) and a checksum: what the
 * log holds is the lines from the start, intact and of a generation not
 * lower than the line before, up to the first that is not.
 */
export class PublicationLog {
  readonly #fd: number;
  readonly #map: Buffer | undefined;
  /** Where the next line goes: the end of the log's lines. */
  #pos: number;
  #generation: number;
  readonly #read: LogContents;

  /** Opens (or creates) the log; `mode` `'write'` never maps it. */
  constructor(file: string, mode: LogMode = 'map') {
    this.#fd = openSync(file, existsSync(file) ? 'r+' : 'w+');
    // Only a regular file is read and mapped (a device such as /dev/full is written to, never read).
    const regular = fstatSync(this.#fd).isFile();
    const { records, skipped, end, newest } = readLines(regular ? readFileSync(this.#fd) : Buffer.alloc(0));
    this.#read = { records, skipped };
    this.#pos = end;
    this.#generation = newest + 1;
    let map: Buffer | undefined;
    if (mode === 'map' && addon !== undefined && regular) {
      try {
        map = addon.map(this.#fd, LOG_MAP_BYTES);
      } catch {
        map = undefined;
      }
    }
    this.#map = map;
  }

  /** How this log writes. */
  get mode(): LogMode {
    return this.#map === undefined ? 'write' : 'map';
  }

  /** The records the file held when it was opened (those a previous process left). */
  read(): LogContents {
    return this.#read;
  }

  /** Writes the records as whole lines after the log's; throws, keeping none of them, if it cannot. */
  append(records: readonly LoggedPublication[]): void {
    let text = '';
    for (const r of records) text += lineOf(this.#generation, recordText(r));
    const map = this.#map;
    if (map !== undefined && this.#pos + text.length * 3 <= map.length) {
      // At most 3 bytes a UTF-16 unit: the whole text fits, so `write` never cuts it short.
      this.#pos += map.write(text, this.#pos, 'utf8');
      return;
    }
    const bytes = Buffer.from(text, 'utf8');
    let done = 0;
    // A write cut short leaves a torn line at the end, overwritten by the next append.
    while (done < bytes.length) done += writeSync(this.#fd, bytes, done, bytes.length - done, this.#pos + done);
    this.#pos += bytes.length;
  }

  /** Empties the log (everything in it is in the database). */
  clear(): void {
    if (this.#pos === 0) return;
    this.#generation++;
    if (this.#map !== undefined) {
      // An empty first line ends the log; lines past the mapping go.
      this.#map[0] = 0x0a;
      if (this.#pos > this.#map.length) ftruncateSync(this.#fd, this.#map.length);
    } else ftruncateSync(this.#fd, 0);
    this.#pos = 0;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** How a line of the log begins (a generation, a checksum, a record), or a line of the earlier format. */
const LINE_START = /^(\d+ [0-9a-f]+ )?\[/;

/**
 * The log's lines in `file` (its bytes): the records, the torn lines that
 * ended them (0 or 1), where the next line goes, and the highest generation
 * of any intact line in the file. A line beginning with a zero byte is past
 * anything ever written to a mapped log: nothing after it is read.
 */
function readLines(file: Buffer): LogContents & { end: number; newest: number } {
  const records: LoggedPublication[] = [];
  let skipped = 0;
  let end = 0;
  let newest = 0;
  let last = 0;
  let reading = true;
  for (let at = 0; at < file.length && file[at] !== 0; ) {
    const nl = file.indexOf(0x0a, at);
    const line = file.toString('utf8', at, nl < 0 ? file.length : nl);
    const parsed = nl < 0 ? undefined : parseLine(line);
    if (parsed !== undefined) newest = Math.max(newest, parsed.generation);
    if (reading) {
      if (parsed !== undefined && parsed.generation >= last) {
        records.push(parsed.record);
        last = parsed.generation;
        end = nl + 1;
      } else {
        reading = false;
        // A line begun and not finished (a write or copy cut short); not the end of the log, zeros,
        // an older intact line or the rest of one left behind the current lines.
        if (parsed === undefined && LINE_START.test(line)) skipped++;
      }
    }
    if (nl < 0) break;
    at = nl + 1;
  }
  return { records, skipped, end, newest };
}
