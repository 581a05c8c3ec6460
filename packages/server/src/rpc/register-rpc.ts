import { type RpcResult, SynclineError, validateWith } from '@syncline/protocol';
import type { ServerCore } from '../core.js';
import { connectionInfo } from '../session/connect-commands.js';
import { takeToken } from '../session/rate-bucket.js';
import { forbidden, type Session } from '../session/session.js';
import { defineSlot } from '../session/session-slot.js';
import type { AnyRpcMethod, RpcContext, RpcMethods } from './rpc-methods.js';

/**
 * Answers methods the config does not define (the app's backend through the
 * proxy); same capability, limits and deadline as a defined method.
 */
export type RpcFallback = (data: unknown, ctx: RpcContext) => Promise<unknown>;

/** A fallback as a method without a schema. */
function fallbackMethod(fallback: RpcFallback): AnyRpcMethod {
  return { handler: fallback as (data: never, ctx: RpcContext) => unknown };
}

/** Longest message of a handler's error passed on in `rpc_failed`, characters. */
const MAX_FAILURE_MESSAGE = 300;

/** Calls of a connection running now, and the aborts of each (fired when the connection closes). */
const RPC_CALLS_SLOT = defineSlot<Set<AbortController>>('rpc', () => new Set());

/** The answer of a handler that threw: its `SynclineError`, else `rpc_failed` with its message. */
function failureOf(err: unknown, method: string): SynclineError {
  if (err instanceof SynclineError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SynclineError('rpc_failed', `${method}: ${message}`.slice(0, MAX_FAILURE_MESSAGE));
}

/** Runs the handler under its deadline; the call's `signal` aborts at the deadline. */
async function runHandler(
  method: AnyRpcMethod,
  data: unknown,
  ctx: RpcContext,
  timeoutMs: number,
  abort: AbortController,
): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(
        new SynclineError('timeout', `${ctx.method} did not answer within ${timeoutMs} ms.`, { retryAfterMs: 1_000 }),
      );
    }, timeoutMs);
  });
  try {
    // The handler's data type is its schema's output, checked just before.
    const run = method.handler as (data: unknown, ctx: RpcContext) => unknown;
    return await Promise.race([Promise.resolve().then(() => run(data, ctx)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Client→server RPC (`rpc` command): a method of the config's `rpc`, guarded
 * by the `rpc` capability on the method name, rate-limited per connection
 * (`limits.rpcRatePerSec`/`rpcBurst`), with at most `limits.rpcConcurrency`
 * calls of one connection running at once and a deadline per call
 * (`timeoutMs`, default `limits.rpcTimeoutMs`). Calls are never retried by
 * the SDK: a call cut by a lost connection may or may not have run.
 */
export function registerRpc(core: ServerCore, methods: RpcMethods = {}, fallback?: RpcFallback): void {
  const byName = new Map(Object.entries(methods));
  for (const [name, m] of byName) {
    if (typeof m?.handler !== 'function') throw new Error(`RPC method "${name}" needs a handler function.`);
  }

  core.command('rpc', async (session: Session, cmd) => {
    const method = byName.get(cmd.method) ?? (fallback && fallbackMethod(fallback));
    if (!session.principal?.can.allows('rpc', cmd.method)) throw forbidden('call', cmd.method);
    if (!method) throw new SynclineError('unknown_method', `No RPC method "${cmd.method}" is defined.`);
    const { rpcRatePerSec: ratePerSec, rpcBurst: burst, rpcConcurrency, rpcTimeoutMs } = core.limits;
    takeToken(session, { key: 'rpcBucket', ratePerSec, burst, what: 'RPC' });
    const calls = session.slot(RPC_CALLS_SLOT);
    if (calls.size >= rpcConcurrency) {
      throw new SynclineError('rate_limited', `At most ${rpcConcurrency} RPC calls may run at once per connection.`, {
        retryAfterMs: 100,
        details: { limit: 'rpcConcurrency', value: rpcConcurrency },
      });
    }
    let data: unknown = cmd.data ?? null;
    if (method.args) {
      const check = await validateWith(method.args, data);
      if (!check.ok) {
        const first = check.issues[0];
        throw new SynclineError(
          'invalid_args',
          `Invalid args for ${cmd.method}${first?.path ? ` at "${first.path}"` : ''}: ${first?.message ?? 'rejected'}.`,
          { details: { issues: check.issues } },
        );
      }
      data = check.value;
    }
    const abort = new AbortController();
    calls.add(abort);
    const ctx: RpcContext = { ...connectionInfo(session), method: cmd.method, signal: abort.signal };
    try {
      const result = await runHandler(method, data, ctx, method.timeoutMs ?? rpcTimeoutMs, abort);
      const reply: RpcResult = { data: result ?? null };
      return reply;
    } catch (err) {
      if (!(err instanceof SynclineError)) core.logger.info({ err, method: cmd.method }, 'rpc handler failed');
      throw failureOf(err, cmd.method);
    } finally {
      calls.delete(abort);
    }
  });

  core.sessionEvents.closed.add((session) => {
    const calls = session.peek(RPC_CALLS_SLOT);
    if (!calls) return;
    for (const abort of calls) abort.abort();
    session.clearSlot(RPC_CALLS_SLOT);
  });
}
