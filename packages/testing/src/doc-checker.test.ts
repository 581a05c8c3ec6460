import { describe, expect, it } from 'vitest';
import { DOC_ANOMALY_KINDS, type DocAnomalyKind, type DocCheckResult } from './doc-anomalies.js';
import { checkDocHistory } from './doc-checker.js';
import type {
  MutationAttempt,
  OpLogEntry,
  RecordedDocHistory,
  ReplicaApplyEvent,
  ReplicaFinal,
} from './doc-history.js';
import { DocHistoryRecorder } from './doc-history-recorder.js';

const D = 'todos:1';
const OPS: ReadonlyArray<readonly [number, string | undefined, number | undefined]> = [
  [1, 'c1', 1],
  [2, 'c2', 1],
  [3, 'c1', 2],
  [4, 'c2', 2],
  [5, undefined, undefined], // an HTTP mutation without a client
  [6, 'c2', 4],
];
const FINAL_STATE = {
  items: [
    { id: 'a', done: true, text: 'milk' },
    { id: 'b', done: false, text: 'eggs' },
  ],
  count: 2,
};

/**
 * A clean history with legitimate cases the checker must not flag: a commit
 * whose reply was lost and whose resend is answered duplicate, a rejected
 * mutation, an unknown outcome never applied, a mutation that changed nothing,
 * server ops without a client, a replica that reconnects and catches up from
 * its version, a late replica starting from a snapshot, a second document
 * whose op log no longer reaches an old ack, and replicas whose final states
 * equal the server's with another key order.
 */
function cleanHistory(): RecordedDocHistory {
  const rec = new DocHistoryRecorder();
  const m = (clientId: string, mutationId: number, name = 'toggle', expectOp = true) =>
    rec.mutationInvoked({ doc: D, clientId, mutationId, name, args: { id: 'a' }, expectOp });
  m('c1', 1, 'add').acked({ version: 1 });
  m('c2', 1, 'add').acked({ version: 2 });
  m('c1', 2).unknown('connection_lost');
  m('c2', 2).acked({ version: 4 });
  m('c1', 2).acked({ version: 4, duplicate: true });
  m('c2', 3).rejected('mutation_failed');
  m('c1', 3).unknown('request_timeout');
  m('c1', 4, 'noop', false).acked({ version: 4 });
  m('c2', 4).acked({ version: 6 });

  const patch = (replica: string, v: number): void => {
    const [, clientId, mutationId] = OPS[v - 1] ?? [v, undefined, undefined];
    rec.applied({ replica, doc: D, kind: 'patch', version: v, clientId, mutationId });
  };
  for (let v = 1; v <= 6; v++) patch('r1', v);
  patch('r2', 1);
  patch('r2', 2);
  rec.applied({ replica: 'r3', doc: D, kind: 'snapshot', version: 4 });
  for (let v = 3; v <= 6; v++) patch('r2', v);
  patch('r3', 5);
  patch('r3', 6);
  rec.applied({ replica: 'r2', doc: D, kind: 'snapshot', version: 6 });

  rec.serverFinal({
    doc: D,
    version: 6,
    state: FINAL_STATE,
    ops: OPS.map(([version, clientId, mutationId]) => ({
      version,
      ...(clientId === undefined ? {} : { clientId }),
      ...(mutationId === undefined ? {} : { mutationId }),
    })),
  });
  rec.replicaFinal({ replica: 'r1', doc: D, version: 6, state: FINAL_STATE });
  rec.replicaFinal({
    replica: 'r2',
    doc: D,
    version: 6,
    state: {
      count: 2,
      items: [
        { text: 'milk', id: 'a', done: true },
        { done: false, id: 'b', text: 'eggs' },
      ],
    },
  });
  rec.replicaFinal({ replica: 'r3', doc: D, version: 6, state: structuredClone(FINAL_STATE) });

  // A document whose op log was truncated: the ack at version 2 is not judged.
  rec
    .mutationInvoked({ doc: 'notes:1', clientId: 'c1', mutationId: 1, name: 'write', args: 'hi' })
    .acked({ version: 2 });
  rec.serverFinal({
    doc: 'notes:1',
    version: 7,
    state: { text: 'hi!' },
    ops: [5, 6, 7].map((version) => ({ version })),
  });
  rec.replicaFinal({ replica: 'r1', doc: 'notes:1', version: 7, state: { text: 'hi!' } });
  return rec.history();
}

interface MutableDocHistory {
  mutations: MutationAttempt[];
  applied: ReplicaApplyEvent[];
  replicas: ReplicaFinal[];
  servers: Array<{ doc: string; version: number; state: unknown; ops?: OpLogEntry[] }>;
}

function edit(h: RecordedDocHistory): MutableDocHistory {
  return JSON.parse(JSON.stringify(h)) as MutableDocHistory;
}

function server(h: MutableDocHistory): MutableDocHistory['servers'][number] & { ops: OpLogEntry[] } {
  const s = h.servers.find((x) => x.doc === D);
  if (!s?.ops) throw new Error('no server final with an op log');
  return { ...s, ops: s.ops };
}

function appliedIndex(h: MutableDocHistory, replica: string, version: number): number {
  const i = h.applied.findIndex((a) => a.replica === replica && a.version === version && a.kind === 'patch');
  if (i < 0) throw new Error(`no patch ${replica} v${version}`);
  return i;
}

function expectOnly<K extends DocAnomalyKind>(r: DocCheckResult, kind: K, count = 1) {
  const others = DOC_ANOMALY_KINDS.filter((k) => k !== kind && r.counts[k] > 0);
  expect(others, r.summary).toEqual([]);
  expect(r.counts[kind], r.summary).toBe(count);
  expect(r.ok).toBe(false);
  expect(r.summary).toContain(`First ${kind}:`);
  const first = r.examples[kind][0];
  if (!first) throw new Error(`no example of ${kind}`);
  return first;
}

describe('checkDocHistory', () => {
  it('passes a clean history with resends, rejections, snapshots and truncated op logs', () => {
    const r = checkDocHistory(cleanHistory());
    expect(r.summary).toMatch(/No anomaly\.$/);
    expect(r.ok).toBe(true);
    expect(r.stats).toMatchObject({ mutations: 10, acked: 7, rejected: 1, unknown: 2, replicas: 3, docs: 2 });
  });

  it('reports an acknowledged mutation missing from the op log', () => {
    const h = edit(cleanHistory());
    const s = server(h);
    s.ops.splice(
      s.ops.findIndex((o) => o.version === 6),
      1,
    );
    const a = expectOnly(checkDocHistory(h), 'lost-mutation');
    expect(a).toMatchObject({ doc: D, clientId: 'c2', mutationId: 4, ackedVersion: 6, opLog: { from: 1, to: 5 } });
  });

  it('reports a mutation acked past the server version when there is no op log', () => {
    const h = edit(cleanHistory());
    h.servers = h.servers.map((x) => (x.doc === D ? { doc: D, version: 6, state: x.state } : x));
    const p = h.mutations.find((m) => m.clientId === 'c2' && m.mutationId === 4) as MutationAttempt;
    h.mutations[p.id] = { ...p, outcome: { kind: 'acked', version: 7 } };
    expect(expectOnly(checkDocHistory(h), 'lost-mutation')).toMatchObject({ ackedVersion: 7, serverVersion: 6 });
  });

  it('reports a mutation applied twice', () => {
    const h = edit(cleanHistory());
    server(h).ops.push({ version: 7, clientId: 'c1', mutationId: 1 });
    const a = expectOnly(checkDocHistory(h), 'duplicate-mutation');
    expect(a).toMatchObject({ clientId: 'c1', mutationId: 1, firstVersion: 1, version: 7, seenBy: 'op-log' });
  });

  it('reports an ack naming another op’s version', () => {
    const h = edit(cleanHistory());
    const p = h.mutations.find((m) => m.clientId === 'c2' && m.mutationId === 2) as MutationAttempt;
    h.mutations[p.id] = { ...p, outcome: { kind: 'acked', version: 5 } };
    expect(expectOnly(checkDocHistory(h), 'ack-version-mismatch')).toMatchObject({ ackedVersion: 5, opVersions: [4] });
  });

  it('reports a version skipped at a replica', () => {
    const h = edit(cleanHistory());
    h.applied.splice(appliedIndex(h, 'r1', 3), 1);
    expect(expectOnly(checkDocHistory(h), 'version-skip')).toMatchObject({ replica: 'r1', after: 2, next: 4 });
  });

  it('reports a version applied twice at a replica', () => {
    const h = edit(cleanHistory());
    const i = appliedIndex(h, 'r2', 4);
    h.applied.splice(i + 1, 0, h.applied[i] as ReplicaApplyEvent);
    const a = expectOnly(checkDocHistory(h), 'version-repeat');
    expect(a).toMatchObject({ replica: 'r2', version: 4, after: 4, applyKind: 'patch', event: i + 1 });
  });

  it('reports a snapshot older than what the replica had', () => {
    const h = edit(cleanHistory());
    h.applied.push({ replica: 'r1', doc: D, kind: 'snapshot', version: 3, at: 0 });
    h.applied.push({ replica: 'r1', doc: D, kind: 'snapshot', version: 6, at: 0 });
    expect(expectOnly(checkDocHistory(h), 'version-repeat')).toMatchObject({
      version: 3,
      after: 6,
      applyKind: 'snapshot',
    });
  });

  it('reports two ops seen at one version', () => {
    const h = edit(cleanHistory());
    const i = appliedIndex(h, 'r3', 5);
    h.applied[i] = { ...(h.applied[i] as ReplicaApplyEvent), clientId: 'c9', mutationId: 1 };
    const a = expectOnly(checkDocHistory(h), 'divergent-version');
    expect(a).toMatchObject({
      version: 5,
      first: { seenBy: 'op-log' },
      other: { clientId: 'c9', mutationId: 1, seenBy: 'r3' },
    });
  });

  it('reports a replica whose state did not converge', () => {
    const h = edit(cleanHistory());
    h.replicas = h.replicas.map((r) =>
      r.replica === 'r3' && r.doc === D
        ? { ...r, state: { ...FINAL_STATE, items: [FINAL_STATE.items[0], { id: 'b', done: true, text: 'eggs' }] } }
        : r,
    );
    const a = expectOnly(checkDocHistory(h), 'not-converged');
    expect(a).toMatchObject({ replica: 'r3', replicaVersion: 6, serverVersion: 6 });
    expect(a.difference).toEqual({ path: '$.items[1].done', replica: true, server: false });
  });

  it('reports a replica that stopped at an older version', () => {
    const h = edit(cleanHistory());
    h.replicas = h.replicas.map((r) => (r.replica === 'r1' && r.doc === D ? { ...r, version: 5 } : r));
    const a = expectOnly(checkDocHistory(h), 'not-converged');
    expect(a).toMatchObject({ replica: 'r1', replicaVersion: 5, serverVersion: 6 });
    expect(a).not.toHaveProperty('difference');
  });

  it('survives JSON and records copies of states', () => {
    const rec = new DocHistoryRecorder();
    const state = { n: 1 };
    rec.replicaFinal({ replica: 'r', doc: D, version: 1, state });
    rec.serverFinal({ doc: D, version: 1, state });
    state.n = 2;
    const h = rec.history();
    expect(JSON.parse(JSON.stringify(h))).toEqual(h);
    expect(h.replicas[0]?.state).toEqual({ n: 1 });
    expect(checkDocHistory(h).ok).toBe(true);
    const handle = rec.mutationInvoked({ doc: D, clientId: 'c', mutationId: 1, name: 'x', args: null });
    handle.rejected('client_expired');
    expect(() => handle.acked({ version: 2 })).toThrow(/already settled/);
  });
});
