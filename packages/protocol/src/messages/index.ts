import * as v from 'valibot';
import { type ClientCommand, COMMAND_SCHEMAS, type CommandType } from './commands.js';
import { parseHotCommand } from './hot-commands.js';

export * from './commands.js';
export * from './common.js';
export * from './core.js';
export * from './docs.js';
export * from './presence.js';
export * from './results.js';
export * from './rpc.js';
export * from './server.js';
export * from './server-messages.js';

/** Outcome of parsing one decoded frame element. */
export type ParseResult =
  | { readonly ok: true; readonly command: ClientCommand }
  | {
      readonly ok: false;
      readonly code: 'unknown_command' | 'invalid_command' | 'bad_frame';
      readonly message: string;
      readonly id?: number;
    };

/** Validates a decoded value as a client command. */
export function parseCommand(raw: unknown): ParseResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, code: 'bad_frame', message: 'A command must be a JSON object.' };
  }
  const rec = raw as Record<string, unknown>;
  // Only a valid request id (a positive safe integer) is echoed; an error for
  // any other value carries no id, as for a frame with no readable id.
  const id = typeof rec.id === 'number' && Number.isSafeInteger(rec.id) && rec.id >= 1 ? rec.id : undefined;
  const type = rec.type;
  if (typeof type !== 'string' || !Object.hasOwn(COMMAND_SCHEMAS, type)) {
    const message = typeof type === 'string' ? `Unknown command type "${type.slice(0, 40)}".` : 'Missing command type.';
    return id === undefined
      ? { ok: false, code: 'unknown_command', message }
      : { ok: false, code: 'unknown_command', message, id };
  }
  const hot = parseHotCommand(type, rec);
  if (hot !== undefined) return { ok: true, command: hot };
  const schema = COMMAND_SCHEMAS[type as CommandType];
  const res = v.safeParse(schema, raw);
  if (res.success) return { ok: true, command: res.output as ClientCommand };
  const issue = res.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join('.') ?? '';
  const message = `Invalid ${type} command${path ? ` at "${path}"` : ''}: ${issue.message}`;
  return id === undefined
    ? { ok: false, code: 'invalid_command', message }
    : { ok: false, code: 'invalid_command', message, id };
}
