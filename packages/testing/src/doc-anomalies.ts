import { type AnomalyCounts, type AnomalyExamples, brief } from './anomaly-log.js';

/** An acknowledged mutation the server's op log lacks although it reaches back to it. */
export interface LostMutationAnomaly {
  readonly kind: 'lost-mutation';
  readonly doc: string;
  readonly clientId: string;
  readonly mutationId: number;
  readonly name: string;
  readonly args: unknown;
  readonly ackedVersion: number;
  readonly duplicate: boolean;
  /** The op log's version range, when one was recorded. */
  readonly opLog?: { readonly from: number; readonly to: number };
  readonly serverVersion: number;
}

/** One (clientId, mutationId) applied at two versions (in the op log or at a replica). */
export interface DuplicateMutationAnomaly {
  readonly kind: 'duplicate-mutation';
  readonly doc: string;
  readonly clientId: string;
  readonly mutationId: number;
  readonly firstVersion: number;
  readonly version: number;
  /** Where the second version was seen: `op-log` or a replica's name. */
  readonly seenBy: string;
}

/** A non-duplicate ack names a version at which the op log holds another op, while the mutation is at another. */
export interface AckVersionMismatchAnomaly {
  readonly kind: 'ack-version-mismatch';
  readonly doc: string;
  readonly clientId: string;
  readonly mutationId: number;
  readonly ackedVersion: number;
  readonly opVersions: readonly number[];
}

/** A replica applied version `next` right after `after`, skipping versions between. */
export interface VersionSkipAnomaly {
  readonly kind: 'version-skip';
  readonly replica: string;
  readonly doc: string;
  readonly after: number;
  readonly next: number;
  /** Index in `applied` of the patch past the skip. */
  readonly event: number;
}

/** A replica applied a version at or below one it already had (or a snapshot older than it). */
export interface VersionRepeatAnomaly {
  readonly kind: 'version-repeat';
  readonly replica: string;
  readonly doc: string;
  readonly version: number;
  readonly after: number;
  readonly applyKind: 'patch' | 'snapshot';
  readonly event: number;
}

/** Two ops were seen at one version of a document (different client/mutation ids). */
export interface DivergentVersionAnomaly {
  readonly kind: 'divergent-version';
  readonly doc: string;
  readonly version: number;
  readonly first: { readonly clientId?: string; readonly mutationId?: number; readonly seenBy: string };
  readonly other: { readonly clientId?: string; readonly mutationId?: number; readonly seenBy: string };
}

/** A replica's final state or version differs from the server's once quiet. */
export interface NotConvergedAnomaly {
  readonly kind: 'not-converged';
  readonly replica: string;
  readonly doc: string;
  readonly replicaVersion: number;
  readonly serverVersion: number;
  /** The first difference in state, absent when only the versions differ. */
  readonly difference?: { readonly path: string; readonly replica: unknown; readonly server: unknown };
}

/** Every anomaly {@link checkDocHistory} reports. */
export type DocAnomaly =
  | LostMutationAnomaly
  | DuplicateMutationAnomaly
  | AckVersionMismatchAnomaly
  | VersionSkipAnomaly
  | VersionRepeatAnomaly
  | DivergentVersionAnomaly
  | NotConvergedAnomaly;

/** The kinds of {@link DocAnomaly}. */
export type DocAnomalyKind = DocAnomaly['kind'];

/** Every {@link DocAnomalyKind}, in report order. */
export const DOC_ANOMALY_KINDS: readonly DocAnomalyKind[] = [
  'lost-mutation',
  'duplicate-mutation',
  'ack-version-mismatch',
  'version-skip',
  'version-repeat',
  'divergent-version',
  'not-converged',
];

/** Totals of what a document history held. */
export interface DocHistoryStats {
  readonly mutations: number;
  readonly acked: number;
  readonly rejected: number;
  readonly unknown: number;
  readonly applied: number;
  readonly replicas: number;
  readonly docs: number;
}

/** The verdict of {@link checkDocHistory}. */
export interface DocCheckResult {
  /** True when no anomaly of any kind was found. */
  readonly ok: boolean;
  readonly counts: AnomalyCounts<DocAnomaly>;
  /** The first `maxExamples` of each kind, in the order found. */
  readonly examples: AnomalyExamples<DocAnomaly>;
  readonly stats: DocHistoryStats;
  /** One paragraph for a test to print. */
  readonly summary: string;
}

/** Options of {@link checkDocHistory}. */
export interface DocCheckOptions {
  /** Examples kept per kind (default 10). */
  readonly maxExamples?: number;
}

const ids = (o: { readonly clientId?: string; readonly mutationId?: number }): string =>
  o.clientId === undefined ? 'a server op' : `${o.clientId}#${o.mutationId ?? '?'}`;

/** One line describing an anomaly, for summaries and failure messages. */
export function describeDocAnomaly(a: DocAnomaly): string {
  switch (a.kind) {
    case 'lost-mutation':
      return `${a.doc}: ${a.clientId}#${a.mutationId} (${a.name}) acked at version ${a.ackedVersion}${a.duplicate ? ' (duplicate)' : ''} is not in the op log${a.opLog ? ` (versions ${a.opLog.from}..${a.opLog.to})` : ''}; server at ${a.serverVersion}`;
    case 'duplicate-mutation':
      return `${a.doc}: ${a.clientId}#${a.mutationId} applied at versions ${a.firstVersion} and ${a.version} (seen by ${a.seenBy})`;
    case 'ack-version-mismatch':
      return `${a.doc}: ${a.clientId}#${a.mutationId} acked at version ${a.ackedVersion} but the op log has it at ${a.opVersions.join(', ')}`;
    case 'version-skip':
      return `replica ${a.replica} of ${a.doc} applied version ${a.next} after ${a.after}`;
    case 'version-repeat':
      return `replica ${a.replica} of ${a.doc} applied ${a.applyKind} version ${a.version} after ${a.after}`;
    case 'divergent-version':
      return `${a.doc} version ${a.version} is ${ids(a.first)} (${a.first.seenBy}) and ${ids(a.other)} (${a.other.seenBy})`;
    case 'not-converged':
      return `replica ${a.replica} of ${a.doc} ended at version ${a.replicaVersion}, server at ${a.serverVersion}${a.difference ? `; states differ at ${a.difference.path}: ${brief(a.difference.replica, 40)} vs ${brief(a.difference.server, 40)}` : ''}`;
  }
}
