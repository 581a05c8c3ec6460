import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

/** A pino logger whose lines are kept for assertions. */
export interface CapturedLog {
  readonly logger: Logger;
  /** Every line logged so far, parsed. */
  readonly lines: ReadonlyArray<{ level: number; msg?: string; err?: { message?: string } }>;
  /** Lines at error level or above (pino's `error` is 50). */
  errors(): string[];
}

/** A logger at `warn` that records its lines instead of printing them. */
export function captureLog(level = 'warn'): CapturedLog {
  const lines: Array<{ level: number; msg?: string; err?: { message?: string } }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return {
    logger: pino({ level }, sink),
    lines,
    errors: () => lines.filter((l) => l.level >= 50).map((l) => `${l.msg ?? ''} ${l.err?.message ?? ''}`.trim()),
  };
}
