import * as v from 'valibot';
import { Json, RequestId } from './common.js';

/** Longest RPC method name. */
export const MAX_RPC_METHOD_LENGTH = 128;

/** An RPC method name: letters, digits and `_ . : -`, 1 to 128 characters. */
export const RpcMethod = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'A method name is 1 to 128 letters, digits or "_.:-".'),
);

/** Calls a method the server defines (`rpc` in its config); answered with the method's result. */
export const RpcCommand = v.object({
  type: v.literal('rpc'),
  id: RequestId,
  method: RpcMethod,
  data: v.optional(Json),
});

/** Schemas of the RPC commands, by `type`. */
export const RPC_COMMANDS = {
  rpc: RpcCommand,
} as const;

/** Result of `rpc`: what the method returned (`null` for nothing). */
export interface RpcResult {
  readonly data: unknown;
}
