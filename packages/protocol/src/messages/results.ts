import type { RequestType } from './commands.js';
import type { DocMutateResult, DocSubscribeResult } from './docs.js';
import type { PresenceEnterResult } from './presence.js';
import type { RpcResult } from './rpc.js';
import type { ConnectResult, HistoryResult, PublishResult, RefreshResult, SubscribeResult } from './server.js';

/** Result of a command whose reply carries nothing (`unsubscribe`, `presence.leave` …): an empty object. */
export type EmptyResult = { readonly [key: string]: never };

/** The result of each request command, by type; `CommandResults` checks it covers every one. */
interface ResultsByType {
  connect: ConnectResult;
  subscribe: SubscribeResult;
  unsubscribe: EmptyResult;
  publish: PublishResult;
  history: HistoryResult;
  refresh: RefreshResult;
  'doc.subscribe': DocSubscribeResult;
  'doc.unsubscribe': EmptyResult;
  'doc.mutate': DocMutateResult;
  'presence.enter': PresenceEnterResult;
  'presence.update': EmptyResult;
  'presence.leave': EmptyResult;
  'presence.subscribe': EmptyResult;
  'presence.unsubscribe': EmptyResult;
  rpc: RpcResult;
}

/**
 * The result each request command is answered with (the `result` of its
 * `reply`), by command type. Commands without an id (`ping`, `pong`) get no
 * reply and are not in it. A request command added to the schemas without
 * its result here does not compile.
 */
export type CommandResults = { readonly [K in RequestType]: ResultsByType[K] };

/** The result of a command of type `K`, as its `reply` carries it. */
export type ResultOf<K extends RequestType> = CommandResults[K];
