import { useCallback, useEffect, useRef, useState } from 'react';
import { getJson } from './api';
import { type DocOp, docApiPath, formatTime, query } from './console-requests';

const OPS_PAGE = 20;
/** Most ops kept on the page (older ones are dropped as new ones arrive live). */
const MAX_OPS_SHOWN = 500;

interface OpsPage {
  readonly ops: DocOp[];
  readonly prev?: number;
}

/**
 * The newest page merged over what is shown: new ops on top. With nothing
 * shown, or a gap (more new ops than a page), the page replaces the list
 * (`reset`: its `prev` cursor applies).
 */
function merge(shown: readonly DocOp[], page: readonly DocOp[]): { ops: DocOp[]; reset: boolean } {
  const top = shown[0]?.version ?? 0;
  const fresh = page.filter((o) => o.version > top);
  const oldestFresh = fresh[fresh.length - 1]?.version;
  if (shown.length === 0 || (oldestFresh !== undefined && oldestFresh > top + 1)) {
    return { ops: [...page], reset: true };
  }
  return { ops: [...fresh, ...shown].slice(0, MAX_OPS_SHOWN), reset: false };
}

function argsText(op: DocOp): string {
  if (op.args !== undefined) {
    const text = JSON.stringify(op.args);
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  }
  return op.argsBytes ? `(${op.argsBytes} bytes, not kept)` : '';
}

/**
 * A document's recent ops, newest first, paged back with the API's `prev`
 * cursor; when `version` moves (live), the newest page is read again and
 * its new ops go on top (at most one read a second).
 */
export function DocOps({ doc, version }: { doc: string; version: number | undefined }) {
  const [ops, setShown] = useState<DocOp[]>([]);
  const opsRef = useRef<DocOp[]>([]);
  const setOps = useCallback((next: DocOp[]) => {
    opsRef.current = next;
    setShown(next);
  }, []);
  const [prev, setPrev] = useState<number | undefined>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const lastRead = useRef(0);
  const path = `${docApiPath(doc)}/ops`;

  const newest = useCallback(async () => {
    lastRead.current = Date.now();
    try {
      const page = await getJson<OpsPage>(`${path}${query({ limit: OPS_PAGE })}`);
      const merged = merge(opsRef.current, page.ops);
      setOps(merged.ops);
      if (merged.reset) setPrev(page.prev);
      setError(undefined);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }, [path, setOps]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new live version is what asks for a new read.
  useEffect(() => {
    const wait = Math.max(0, 1_000 - (Date.now() - lastRead.current));
    const t = setTimeout(() => void newest(), wait);
    return () => clearTimeout(t);
  }, [newest, version]);

  const older = async () => {
    if (prev === undefined) return;
    setLoading(true);
    try {
      const page = await getJson<OpsPage>(`${path}${query({ before: prev, limit: OPS_PAGE })}`);
      const shown = opsRef.current;
      const oldest = shown[shown.length - 1]?.version ?? Number.MAX_SAFE_INTEGER;
      setOps([...shown, ...page.ops.filter((o) => o.version < oldest)]);
      setPrev(page.prev);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setLoading(false);
    }
  };

  return (
    <>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="table-wrap">
        <table className="list ops" data-testid="doc-ops">
          <caption className="sr-only">Recent operations, newest first</caption>
          <thead>
            <tr>
              <th scope="col" className="num">
                Version
              </th>
              <th scope="col">Mutator</th>
              <th scope="col">Arguments</th>
              <th scope="col">User</th>
              <th scope="col">Time</th>
            </tr>
          </thead>
          <tbody>
            {ops.map((op) => (
              <tr key={op.version} data-version={op.version}>
                <td className="num">{op.version}</td>
                <td className="mono">{op.mutator ?? '(migration)'}</td>
                <td className="mono args">{argsText(op)}</td>
                <td>{op.userId ?? ''}</td>
                <td>{formatTime(op.ts)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {ops.length === 0 && !error && <p className="muted">No ops in the log.</p>}
      {prev !== undefined && (
        <p className="pager">
          <button type="button" onClick={older} disabled={loading}>
            {loading ? 'Loading…' : 'Older ops'}
          </button>
        </p>
      )}
    </>
  );
}
