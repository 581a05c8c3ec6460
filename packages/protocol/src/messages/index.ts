import * as v from 'valibot';
import { CORE_COMMANDS } from './core.js';
import { DOC_COMMANDS } from './docs.js';
import { PRESENCE_COMMANDS } from './presence.js';

export * from './common.js';
export * from './core.js';
export * from './docs.js';
export * from './presence.js';
export * from './results.js';
export * from './server.js';
export * from './server-messages.js';

/**
 * Every client→server command schema, by `type`. Feature areas (documents,
 * presence) add their command schemas here.
 */
export const COMMAND_SCHEMAS = {
  ...CORE_COMMANDS,
  ...DOC_COMMANDS,
  ...PRESENCE_COMMANDS,
} as const;

/** Type name of any client command. */
export type CommandType = keyof typeof COMMAND_SCHEMAS;

/** Any client→server command, typed by its `type`. */
export type ClientCommand = { [K in CommandType]: v.InferOutput<(typeof COMMAND_SCHEMAS)[K]> }[CommandType];

/** Command of one type. */
export type CommandOf<K extends CommandType> = v.InferOutput<(typeof COMMAND_SCHEMAS)[K]>;

/**
 * A request command as its sender writes it: everything but the `id`, which
 * the request layer adds. The `type` member lets a call infer `K` from the
 * literal it passes (`request({ type: 'publish', … })` is typed by `K =
 * 'publish'`).
 */
export type CommandInput<K extends RequestType> = CommandInputs[K] & { readonly type: K };

/**
 * Every request command without its `id`, by type. `CommandInputs[K]` widens
 * to `CommandInputs[RequestType]` (any command input) where a `CommandInput<K>`
 * alone does not.
 */
export type CommandInputs = { [K in RequestType]: Omit<CommandOf<K>, 'id'> };

/** Type name of a command answered by a reply: every command that carries a request `id`. */
export type RequestType = { [K in CommandType]: CommandOf<K> extends { id: number } ? K : never }[CommandType];

/** Any command answered by a reply, as sent: with its request `id`. */
export type RequestCommand = CommandOf<RequestType>;

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
