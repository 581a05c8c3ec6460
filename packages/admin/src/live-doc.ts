import type { DocReplica, SynclineClient } from '@syncline/client';
import { useEffect, useState } from 'react';

/** What the console shows live of a document: its version and state as the server last sent them. */
export interface LiveDocView {
  readonly version: number | undefined;
  readonly state: unknown;
  readonly status: 'loading' | 'live' | 'offline';
}

const users = new Map<string, { replica: DocReplica; count: number }>();

/**
 * A read-only replica of a document on the console's connection (no
 * mutators: the console token may only read). Shared by the views of one
 * document; closed once the last one is gone.
 */
function acquire(client: SynclineClient, doc: string): DocReplica {
  let held = users.get(doc);
  if (!held) {
    held = { replica: client.doc(doc, { mutators: {} }), count: 0 };
    users.set(doc, held);
  }
  held.count++;
  return held.replica;
}

function release(doc: string): void {
  const held = users.get(doc);
  if (!held) return;
  held.count--;
  // Closed a moment later, so a view that opens again at once (a re-render) keeps the same subscription.
  setTimeout(() => {
    if (held.count > 0 || users.get(doc) !== held) return;
    users.delete(doc);
    void held.replica.close();
  }, 1_000);
}

function viewOf(replica: DocReplica): LiveDocView {
  const s = replica.status;
  return {
    version: replica.version,
    state: replica.confirmed,
    status: s === 'offline' ? 'offline' : s === 'loading' ? 'loading' : 'live',
  };
}

/** Subscribes to a document through the console's connection while the view is shown. */
export function useLiveDoc(client: SynclineClient | undefined, doc: string): LiveDocView {
  const [view, setView] = useState<LiveDocView>({ version: undefined, state: undefined, status: 'loading' });
  useEffect(() => {
    if (!client) return;
    const replica = acquire(client, doc);
    setView(viewOf(replica));
    const off = replica.subscribe(() => setView(viewOf(replica)));
    return () => {
      off();
      release(doc);
    };
  }, [client, doc]);
  return view;
}
