import type { CommandInput, DocServerMessage, RequestType, ResultOf } from '@syncline/protocol';
import type { RequestOptions } from '../request-manager.js';
import type { ClientState, StateChange } from '../states.js';

/**
 * Handles a server message about one document (`doc.patch`, `doc.snapshot`,
 * `doc.unsubscribed`); returns true when it took the message.
 */
export type DocMessageHandler = (message: DocServerMessage) => boolean;

/**
 * What a document replica needs from the client it lives on: requests,
 * connection events, and the server's messages about its document. The
 * client implements it (`SynclineClient`); a test can pass a fake.
 */
export interface DocHost {
  /** Connection state; requests are only sent while `connected`. */
  readonly state: ClientState;
  /** Facts of the last accepted `connect`: the user id names a replica's own mutations. */
  readonly info: { readonly user?: string | undefined } | undefined;
  /**
   * Sends a command and resolves with its reply (rejects with a
   * `SynclineError`). Requests made while disconnected wait for the
   * connection within their timeout; `resend` ones are sent again after a
   * reconnect if their reply was lost.
   */
  request<K extends RequestType>(command: CommandInput<K>, options?: RequestOptions): Promise<ResultOf<K>>;
  /** Calls `listener` on every connection state change; returns the remover. */
  on(event: 'state', listener: (change: StateChange) => void): () => void;
  /** Runs `fn` after every successful connect, after channel subscriptions were resent; returns the remover. */
  onConnected(fn: () => void): () => void;
  /**
   * Routes the server's messages naming document `doc` (their `doc` field) to
   * `handler`, in registration order until one returns true; returns the
   * remover. Messages of other documents never reach it.
   */
  onDocMessage(doc: string, handler: DocMessageHandler): () => void;
}
