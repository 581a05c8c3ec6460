import { AnomalyLog, plural } from './anomaly-log.js';
import { firstDifference } from './canonical-json.js';
import {
  DOC_ANOMALY_KINDS,
  type DocAnomaly,
  type DocCheckOptions,
  type DocCheckResult,
  type DocHistoryStats,
  describeDocAnomaly,
} from './doc-anomalies.js';
import type { MutationAttempt, RecordedDocHistory, ServerFinal } from './doc-history.js';

const SEP = '\u0000';
const mutationKey = (doc: string, clientId: string, mutationId: number): string =>
  `${doc}${SEP}${clientId}${SEP}${mutationId}`;

interface OpSeen {
  readonly clientId?: string;
  readonly mutationId?: number;
  readonly seenBy: string;
}

/**
 * Checks a recorded document history against Syncline's document guarantees
 * (docs/guarantees.md, "Checking a history"): acknowledged mutations lost
 * from the op log, a mutation applied twice, an ack naming another op's
 * version, versions skipped or repeated at a replica, two ops at one version,
 * and replicas that did not converge to the server's final state and version
 * (deep-equal).
 *
 * Pure and deterministic, linear in the history. Mutations whose outcome is
 * unknown, pending or rejected are never required in the op log. Lost and
 * ack-version checks need the server's op log and only judge versions it
 * still reaches; without an op log a mutation is lost only when its ack names
 * a version past the server's final one.
 */
export function checkDocHistory(history: RecordedDocHistory, options: DocCheckOptions = {}): DocCheckResult {
  const log = new AnomalyLog<DocAnomaly>(DOC_ANOMALY_KINDS, options.maxExamples);
  const servers = new Map<string, ServerFinal>();
  for (const s of history.servers) servers.set(s.doc, s);

  /** (doc, clientId, mutationId) → the first version it was seen applied at. */
  const appliedAt = new Map<string, number>();
  const reportedDuplicates = new Set<string>();
  /** (doc, version) → the first op seen there. */
  const opAt = new Map<string, OpSeen>();
  const reportedDivergent = new Set<string>();

  const seeOp = (doc: string, version: number, op: OpSeen): void => {
    const vk = `${doc}${SEP}${version}`;
    const first = opAt.get(vk);
    if (!first) opAt.set(vk, op);
    else if ((first.clientId !== op.clientId || first.mutationId !== op.mutationId) && !reportedDivergent.has(vk)) {
      reportedDivergent.add(vk);
      log.add({ kind: 'divergent-version', doc, version, first, other: op });
    }
    if (op.clientId === undefined || op.mutationId === undefined) return;
    const mk = mutationKey(doc, op.clientId, op.mutationId);
    const at = appliedAt.get(mk);
    if (at === undefined) appliedAt.set(mk, version);
    else if (at !== version && !reportedDuplicates.has(mk)) {
      reportedDuplicates.add(mk);
      log.add({
        kind: 'duplicate-mutation',
        doc,
        clientId: op.clientId,
        mutationId: op.mutationId,
        firstVersion: at,
        version,
        seenBy: op.seenBy,
      });
    }
  };

  // The op log first: it is the reference the replicas are compared with.
  const opVersions = new Map<string, number[]>();
  const opRange = new Map<string, { from: number; to: number }>();
  for (const s of history.servers) {
    if (!s.ops) continue;
    const sorted = [...s.ops].sort((a, b) => a.version - b.version);
    opRange.set(s.doc, { from: sorted[0]?.version ?? s.version + 1, to: sorted.at(-1)?.version ?? s.version });
    for (const o of sorted) {
      seeOp(s.doc, o.version, { ...ids(o), seenBy: 'op-log' });
      if (o.clientId === undefined || o.mutationId === undefined) continue;
      const mk = mutationKey(s.doc, o.clientId, o.mutationId);
      const list = opVersions.get(mk) ?? [];
      list.push(o.version);
      opVersions.set(mk, list);
    }
  }

  // Each replica's versions, in the order it applied them.
  const last = new Map<string, number>();
  history.applied.forEach((a, event) => {
    const rk = `${a.replica}${SEP}${a.doc}`;
    const before = last.get(rk);
    if (a.kind === 'snapshot') {
      if (before !== undefined && a.version < before) {
        log.add({
          kind: 'version-repeat',
          replica: a.replica,
          doc: a.doc,
          version: a.version,
          after: before,
          applyKind: 'snapshot',
          event,
        });
      }
      last.set(rk, a.version);
      return;
    }
    seeOp(a.doc, a.version, { ...ids(a), seenBy: a.replica });
    if (before !== undefined && a.version <= before) {
      log.add({
        kind: 'version-repeat',
        replica: a.replica,
        doc: a.doc,
        version: a.version,
        after: before,
        applyKind: 'patch',
        event,
      });
      return;
    }
    if (before !== undefined && a.version > before + 1) {
      log.add({ kind: 'version-skip', replica: a.replica, doc: a.doc, after: before, next: a.version, event });
    }
    last.set(rk, a.version);
  });

  const counts = checkAcks(history.mutations, servers, opVersions, opRange, log);

  for (const r of history.replicas) {
    const s = servers.get(r.doc);
    if (!s) continue;
    const difference = firstDifference(r.state, s.state);
    if (difference === undefined && r.version === s.version) continue;
    log.add({
      kind: 'not-converged',
      replica: r.replica,
      doc: r.doc,
      replicaVersion: r.version,
      serverVersion: s.version,
      ...(difference
        ? { difference: { path: difference.path, replica: difference.left, server: difference.right } }
        : {}),
    });
  }

  const docs = new Set<string>();
  for (const m of history.mutations) docs.add(m.doc);
  for (const a of history.applied) docs.add(a.doc);
  for (const s of history.servers) docs.add(s.doc);
  const stats: DocHistoryStats = {
    mutations: history.mutations.length,
    ...counts,
    applied: history.applied.length,
    replicas: new Set([...history.applied.map((a) => a.replica), ...history.replicas.map((r) => r.replica)]).size,
    docs: docs.size,
  };
  return { ok: log.total === 0, counts: log.counts(), examples: log.examples(), stats, summary: summarise(stats, log) };
}

function ids(o: { readonly clientId?: string; readonly mutationId?: number }): {
  clientId?: string;
  mutationId?: number;
} {
  return {
    ...(o.clientId === undefined ? {} : { clientId: o.clientId }),
    ...(o.mutationId === undefined ? {} : { mutationId: o.mutationId }),
  };
}

/** Judges each acknowledged mutation (its first non-duplicate ack, else its first ack) against the op log. */
function checkAcks(
  mutations: readonly MutationAttempt[],
  servers: ReadonlyMap<string, ServerFinal>,
  opVersions: ReadonlyMap<string, readonly number[]>,
  opRange: ReadonlyMap<string, { from: number; to: number }>,
  log: AnomalyLog<DocAnomaly>,
): { acked: number; rejected: number; unknown: number } {
  const counts = { acked: 0, rejected: 0, unknown: 0 };
  const chosen = new Map<string, MutationAttempt>();
  for (const m of mutations) {
    if (m.outcome.kind === 'rejected') counts.rejected++;
    else if (m.outcome.kind !== 'acked') counts.unknown++;
    else {
      counts.acked++;
      const mk = mutationKey(m.doc, m.clientId, m.mutationId);
      const had = chosen.get(mk);
      if (!had || (had.outcome.kind === 'acked' && had.outcome.duplicate && !m.outcome.duplicate)) chosen.set(mk, m);
    }
  }
  for (const [mk, m] of chosen) {
    if (m.outcome.kind !== 'acked' || m.expectOp === false) continue;
    const server = servers.get(m.doc);
    if (!server) continue;
    const { version } = m.outcome;
    const duplicate = m.outcome.duplicate === true;
    const range = opRange.get(m.doc);
    const found = opVersions.get(mk);
    if (found) {
      if (!duplicate && !found.includes(version)) {
        log.add({
          kind: 'ack-version-mismatch',
          doc: m.doc,
          clientId: m.clientId,
          mutationId: m.mutationId,
          ackedVersion: version,
          opVersions: found,
        });
      }
      continue;
    }
    const lost = range ? range.from <= (duplicate ? 1 : version) : !duplicate && version > server.version;
    if (!lost) continue;
    log.add({
      kind: 'lost-mutation',
      doc: m.doc,
      clientId: m.clientId,
      mutationId: m.mutationId,
      name: m.name,
      args: m.args,
      ackedVersion: version,
      duplicate,
      ...(range ? { opLog: range } : {}),
      serverVersion: server.version,
    });
  }
  return counts;
}

function summarise(s: DocHistoryStats, log: AnomalyLog<DocAnomaly>): string {
  const head =
    `Document history: ${plural(s.mutations, 'mutation attempt')} (${s.acked} acked, ${s.rejected} rejected, ` +
    `${s.unknown} unknown), ${plural(s.applied, 'applied version')} at ${plural(s.replicas, 'replica')} ` +
    `of ${plural(s.docs, 'document')}.`;
  if (log.total === 0) return `${head} No anomaly.`;
  const firsts = log.firsts();
  const counts = firsts.map((f) => plural(f.count, f.kind)).join(', ');
  const details = firsts.map((f) => `First ${f.kind}: ${describeDocAnomaly(f.first)}.`).join(' ');
  return `${head} ${plural(log.total, 'anomaly', 'anomalies')}: ${counts}. ${details}`;
}
