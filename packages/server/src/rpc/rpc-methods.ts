import type { StandardSchemaV1 } from '@syncline/protocol';
import type { ConnectionInfo } from '../hooks.js';

/** What an RPC handler knows about its call. */
export interface RpcContext extends ConnectionInfo {
  /** The method called. */
  readonly method: string;
  /** Aborted when the call times out or the connection closes: stop work that no one will read. */
  readonly signal: AbortSignal;
}

/**
 * One RPC method: an optional Standard Schema for its `data` (a call whose
 * data fails it gets `invalid_args` and the handler does not run) and the
 * handler, whose return value (JSON) is the call's result. A handler that
 * throws a `SynclineError` answers with it; anything else thrown answers
 * `rpc_failed` with its message.
 */
export interface RpcMethod<Data = unknown, Result = unknown> {
  readonly args?: StandardSchemaV1<unknown, Data> | undefined;
  readonly handler: (data: Data, ctx: RpcContext) => Result | Promise<Result>;
  /** Longest the handler may take, ms (default `limits.rpcTimeoutMs`). */
  readonly timeoutMs?: number | undefined;
}

/** A method of any data and result type, as the server holds it. */
export interface AnyRpcMethod {
  readonly args?: StandardSchemaV1 | undefined;
  readonly handler: (data: never, ctx: RpcContext) => unknown;
  readonly timeoutMs?: number | undefined;
}

/** The RPC methods of a server (config `rpc`), by name. */
export type RpcMethods = { readonly [name: string]: AnyRpcMethod };

/**
 * Types a method so its handler's `data` has its schema's output type:
 * `rpc: { add: defineRpc({ args: v.object({ a: v.number() }), handler: ({ a }) => a + 1 }) }`.
 */
export function defineRpc<S extends StandardSchemaV1, Result>(method: {
  readonly args: S;
  readonly handler: (data: StandardSchemaV1.InferOutput<S>, ctx: RpcContext) => Result | Promise<Result>;
  readonly timeoutMs?: number;
}): RpcMethod<StandardSchemaV1.InferOutput<S>, Result> & { readonly args: S } {
  return method;
}
