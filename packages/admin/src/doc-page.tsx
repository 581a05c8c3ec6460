import type { SynclineClient } from '@syncline/client';
import { useEffect, useRef, useState } from 'react';
import { getJson } from './api';
import { type DocDetails, type DocNamespaceInfo, docApiPath, docNamespaces } from './console-requests';
import { DocOps } from './doc-ops';
import { JsonTree } from './json-tree';
import { useLiveDoc } from './live-doc';
import { Link } from './nav';
import { RunMutator } from './run-mutator';

function namespaceOf(doc: string): string {
  const i = doc.indexOf(':');
  return i < 0 ? '' : doc.slice(0, i);
}

/**
 * A document's page: version, schema version and clients, its state as a
 * tree, its recent ops, all live through the console's connection; and
 * "Run mutator" for support cases.
 */
export function DocPage({ doc, client, csrf }: { doc: string; client: SynclineClient | undefined; csrf: string }) {
  const live = useLiveDoc(client, doc);
  const [details, setDetails] = useState<DocDetails | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [ns, setNs] = useState<DocNamespaceInfo | undefined>();
  useEffect(() => {
    docNamespaces().then(
      (list) => setNs(list.find((n) => n.namespace === namespaceOf(doc))),
      () => undefined,
    );
  }, [doc]);
  // Read again when the live version moves (at most once a second): the clients count is the server's.
  const lastRead = useRef(0);
  const shownDoc = useRef(doc);
  shownDoc.current = doc;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the live version asks for a new read.
  useEffect(() => {
    const t = setTimeout(
      () => {
        lastRead.current = Date.now();
        getJson<DocDetails>(docApiPath(doc)).then(
          (d) => {
            if (shownDoc.current !== doc) return;
            setDetails(d);
            setError(undefined);
          },
          (err: unknown) => {
            if (shownDoc.current === doc) setError(err instanceof Error ? err.message : String(err));
          },
        );
      },
      Math.max(0, 1_000 - (Date.now() - lastRead.current)),
    );
    return () => clearTimeout(t);
  }, [doc, live.version]);

  const version = live.version ?? details?.version;
  const state = live.version === undefined ? details?.state : live.state;
  return (
    <section aria-labelledby="page-title" className="page">
      <p className="crumbs">
        <Link href="/admin/docs">Documents</Link> /
      </p>
      <header className="page-head">
        <h1 id="page-title" className="mono">
          {doc}
        </h1>
        <p className={`live ${live.status}`} role="status" data-testid="doc-live">
          {live.status === 'live' ? 'Live' : live.status === 'loading' ? 'Connecting…' : 'Offline, retrying…'}
        </p>
      </header>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <dl className="stats" aria-label="Document">
        <div className="stat">
          <dt>Version</dt>
          <dd data-testid="doc-version">{version ?? '–'}</dd>
        </div>
        <div className="stat">
          <dt>Schema version</dt>
          <dd data-testid="doc-schema">{details?.schemaVersion ?? '–'}</dd>
        </div>
        <div className="stat">
          <dt>Clients kept (exactly-once)</dt>
          <dd data-testid="doc-clients">{details?.clients ?? '–'}</dd>
        </div>
      </dl>
      <h2>State</h2>
      {state === undefined ? <p className="muted">Loading…</p> : <JsonTree value={state} label={`State of ${doc}`} />}
      <h2>Recent ops</h2>
      <DocOps doc={doc} version={version} />
      <h2>Run mutator</h2>
      <p className="muted">
        For support cases: the mutation is ordered, stored and sent to every subscriber like a client&apos;s. There is
        no direct edit.
      </p>
      <RunMutator key={`${doc}:${ns?.mutators.length ?? 0}`} doc={doc} mutators={ns?.mutators ?? []} csrf={csrf} />
    </section>
  );
}
