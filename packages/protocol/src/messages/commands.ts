import type * as v from 'valibot';
import { CORE_COMMANDS } from './core.js';
import { DOC_COMMANDS } from './docs.js';
import { PRESENCE_COMMANDS } from './presence.js';
import { RPC_COMMANDS } from './rpc.js';

/**
 * Every client→server command schema, by `type`. Feature areas (documents,
 * presence) add their command schemas here.
 */
export const COMMAND_SCHEMAS = {
  ...CORE_COMMANDS,
  ...DOC_COMMANDS,
  ...RPC_COMMANDS,
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
