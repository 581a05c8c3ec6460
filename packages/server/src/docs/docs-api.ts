import type { DocMutateResult } from '@syncline/protocol';
import type { DocNamespaces } from './doc-namespaces.js';
import type { DocStore } from './doc-store.js';

/** Options of a server-side mutation. */
export interface ServerMutateOptions {
  /** With `mutationId`: makes the mutation exactly-once (a resend is acknowledged as a duplicate). */
  readonly clientId?: string | undefined;
  readonly mutationId?: number | undefined;
  /** User on whose behalf the mutation runs (`tx.userId`). */
  readonly userId?: string | undefined;
}

/**
 * Documents as app code on the server sees them (`server.docs`); the HTTP
 * API uses the same calls. A server-side mutation is ordered, persisted and
 * broadcast like a client's.
 */
export interface DocsApi {
  /**
   * Current version and state of a document (loading it when needed), with
   * the schema version of that state: the namespace's, since a document is
   * migrated to it when loaded.
   */
  get(doc: string): Promise<{ version: number; state: unknown; schemaVersion: number }>;
  /** Runs a mutator on a document; rejects with the documented error codes. */
  mutate(doc: string, mutator: string, args: unknown, options?: ServerMutateOptions): Promise<DocMutateResult>;
  /** The store behind the documents. */
  readonly store: DocStore;
  /** The document namespaces (`forDoc` checks a name, `has` a namespace, `list` names them all). */
  readonly namespaces: Pick<DocNamespaces, 'forDoc' | 'has' | 'list'>;
  /** Documents in memory right now. */
  readonly loadedCount: number;
  /** Local subscribers of a document. */
  subscriberCount(doc: string): number;
  /** Waits for queued mutations and unloads everything. */
  close(): Promise<void>;
}
