import { CLOSE_CODES, type CommandOf, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, SynclineError } from '@syncline/protocol';
import type { ClientOptions } from './client-options.js';

/** The `connect` command of a new connection: protocol range, token, app, client and the app's `connectData`. */
export function connectCommand(options: ClientOptions, id: number, token: string | undefined): CommandOf<'connect'> {
  const cmd: CommandOf<'connect'> = {
    type: 'connect',
    id,
    protocol: PROTOCOL_VERSION,
    minProtocol: MIN_PROTOCOL_VERSION,
  };
  if (token !== undefined) cmd.token = token;
  if (options.app) cmd.app = options.app;
  const data = options.connectData;
  if (data !== undefined) cmd.data = typeof data === 'function' ? (data as () => unknown)() : data;
  cmd.client = { name: options.client?.name ?? 'syncline-js', version: options.client?.version ?? '0.1.0' };
  return cmd;
}

/** Close codes that mean the token was refused. */
export const TOKEN_CLOSE_CODES: readonly number[] = [
  CLOSE_CODES.TOKEN_EXPIRED.code,
  CLOSE_CODES.UNAUTHORIZED.code,
  CLOSE_CODES.REVOKED.code,
];

/** Error codes of a refused `connect` that call for a new token. */
export const TOKEN_ERROR_CODES: readonly string[] = ['token_expired', 'unauthorized', 'revoked'];

/** The error a token close code stands for, when no refused `connect` said more. */
export function tokenCloseError(code: number, reason: string): SynclineError {
  const errorCode =
    code === CLOSE_CODES.TOKEN_EXPIRED.code
      ? 'token_expired'
      : code === CLOSE_CODES.REVOKED.code
        ? 'revoked'
        : 'unauthorized';
  return new SynclineError(errorCode, reason || `The server refused the token (close code ${code}).`);
}
