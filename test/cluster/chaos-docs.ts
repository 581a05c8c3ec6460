import type { DocReplica, SynclineClient } from '@syncline/client';
import type { CommandInput, CommandInputs, DocSubscribeResult, RequestType } from '@syncline/protocol';
import type { DocHistoryRecorder, OpLogEntry } from '@syncline/testing';
import pg from 'pg';
import { between, delay, errorCode, type Rng } from './chaos-util.js';
import { API_KEY, CLUSTER_MUTATORS, clusterClient } from './cluster.js';

type ClusterClient = Awaited<ReturnType<typeof clusterClient>>;
type CounterReplica = DocReplica<{ count: number; log: string[] }, typeof CLUSTER_MUTATORS>;

/** Mutations one replica may have unanswered at once (more waits are skipped, not queued). */
const MAX_OUTSTANDING_PER_REPLICA = 8;
/** Mutations one writer makes at most (a bound on the loop). */
const MAX_MUTATIONS = 100_000;
/** How long `stop` waits for outstanding mutations to be answered. */
const STOP_WAIT_MS = 60_000;

/**
 * Records, for one replica, the server versions it applied: patches (with the
 * op's client and mutation id, from the `doc.patch` pushes and the ops of
 * subscribe replies) and snapshots (subscribe replies carrying a whole state),
 * derived from its confirmed version as it changes.
 */
class ApplyTracker {
  readonly #ops = new Map<number, { clientId?: string; mutationId?: number }>();
  #last: number | undefined;
  #snapshotAt: number | undefined;

  constructor(
    readonly replica: string,
    readonly doc: string,
    readonly recorder: DocHistoryRecorder,
  ) {}

  op(o: { version: number; clientId?: string | undefined; mutationId?: number | undefined }): void {
    this.#ops.set(o.version, {
      ...(o.clientId === undefined ? {} : { clientId: o.clientId }),
      ...(o.mutationId === undefined ? {} : { mutationId: o.mutationId }),
    });
  }

  reply(r: DocSubscribeResult): void {
    for (const o of r.ops ?? []) this.op(o);
    if (r.ops === undefined) this.#snapshotAt = r.version;
  }

  changed(version: number | undefined): void {
    const last = this.#last;
    if (version === undefined || version === last) return;
    const rec = this.recorder;
    if (last === undefined || version < last) {
      rec.applied({ replica: this.replica, doc: this.doc, kind: 'snapshot', version });
    } else {
      let from = last;
      const snap = this.#snapshotAt;
      if (snap !== undefined && snap > last && snap <= version) {
        rec.applied({ replica: this.replica, doc: this.doc, kind: 'snapshot', version: snap });
        from = snap;
      }
      for (let v = from + 1; v <= version; v++) {
        const o = this.#ops.get(v);
        rec.applied({ replica: this.replica, doc: this.doc, kind: 'patch', version: v, ...o });
      }
    }
    this.#snapshotAt = undefined;
    this.#last = version;
  }
}

interface TrackedReplica {
  readonly name: string;
  readonly doc: string;
  readonly replica: CounterReplica;
  outstanding: number;
}

/** A request command of one type as any request command, which narrows on `type` (a `CommandInput<K>` does not). */
function anyCommand<K extends RequestType>(command: CommandInput<K>): CommandInputs[RequestType] {
  const ofType: CommandInputs[K] = command;
  return ofType;
}

/** Options of {@link DocTraffic.start}. */
export interface DocTrafficOptions {
  /** URLs clients connect to (the proxies), rotated on every reconnect. */
  readonly urls: readonly string[];
  readonly docs: readonly string[];
  readonly writers: number;
  /** Index in `urls` every writer connects to first (the node the test kills). */
  readonly writerSlot: number;
  /** Replicas on other nodes that only read. */
  readonly readers: number;
  /** Mean pause between two mutations of one writer (jittered ±50%). */
  readonly pauseMs: number;
  readonly rng: Rng;
  readonly recorder: DocHistoryRecorder;
}

/**
 * Document traffic of a chaos run: writers mutating the `ctr` documents with
 * unique tags, readers following them, every mutation's outcome and every
 * version a replica applied recorded for `checkDocHistory`.
 */
export class DocTraffic {
  /** Outcomes by kind (`acked`, `duplicate`, or an error code). */
  readonly outcomes = new Map<string, number>();
  readonly #options: DocTrafficOptions;
  readonly #replicas: TrackedReplica[] = [];
  readonly #clients: ClusterClient[] = [];
  readonly #loops: Promise<void>[] = [];
  #running = false;

  private constructor(options: DocTrafficOptions) {
    this.#options = options;
  }

  /** Opens every replica (waiting for each to be ready), then starts the writers. */
  static async start(options: DocTrafficOptions): Promise<DocTraffic> {
    const t = new DocTraffic(options);
    const { urls, writers, readers, writerSlot } = options;
    const writerClients: SynclineClient[] = [];
    for (let w = 0; w < writers; w++) writerClients.push(await t.#open(`writer-${w}`, writerSlot));
    for (let r = 0; r < readers; r++) await t.#open(`reader-${r}`, (writerSlot + 1 + r) % urls.length);
    await Promise.all(t.#replicas.map((r) => r.replica.ready));
    t.#running = true;
    for (const [w, c] of writerClients.entries()) t.#loops.push(t.#writeLoop(c, w));
    return t;
  }

  /** Writers' clients first, then readers'. */
  get clients(): readonly ClusterClient[] {
    return this.#clients;
  }

  /** Stops the writers and waits (bounded) for every outstanding mutation to be answered. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
    const deadline = Date.now() + STOP_WAIT_MS;
    while (this.#replicas.some((r) => r.outstanding > 0) && Date.now() < deadline) await delay(20);
  }

  /** What is not yet quiet against the server's versions: replicas pending, not synced or behind. */
  lagging(serverVersions: ReadonlyMap<string, number>): string[] {
    const out: string[] = [];
    for (const r of this.#replicas) {
      const want = serverVersions.get(r.doc);
      const { status, version, pendingCount } = r.replica;
      if (r.outstanding > 0 || status !== 'synced' || version !== want) {
        out.push(
          `${r.name} ${r.doc} ${status} v${version} want v${want} pending ${pendingCount} outstanding ${r.outstanding}`,
        );
      }
    }
    return out;
  }

  /** Records every replica's final state, and the server's state and op log of every document. */
  async recordFinals(nodeUrl: string, databaseUrl: string): Promise<void> {
    const rec = this.#options.recorder;
    for (const r of this.#replicas) {
      rec.replicaFinal({ replica: r.name, doc: r.doc, version: r.replica.version ?? 0, state: r.replica.confirmed });
    }
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    try {
      for (const doc of this.#options.docs) {
        const server = await readDoc(nodeUrl, doc);
        const rows = await pool.query<{ version: string; client_id: string | null; mutation_id: string | null }>(
          'SELECT version, client_id, mutation_id FROM syncline_doc_ops WHERE doc = $1',
          [doc],
        );
        const ops: OpLogEntry[] = rows.rows.map((o) => ({
          version: Number(o.version),
          ...(o.client_id === null ? {} : { clientId: o.client_id }),
          ...(o.mutation_id === null ? {} : { mutationId: Number(o.mutation_id) }),
        }));
        rec.serverFinal({ doc, version: server.version, state: server.state, ops });
      }
    } finally {
      await pool.end();
    }
  }

  async #open(name: string, slot: number): Promise<ClusterClient> {
    const { urls, docs, recorder } = this.#options;
    const client = await clusterClient(urls, name, slot);
    this.#clients.push(client);
    const trackers = new Map<string, ApplyTracker>();
    client.on('message', (msg) => {
      if (msg.type !== 'doc.patch') return;
      trackers.get(String(msg.doc))?.op(msg as unknown as { version: number; clientId?: string; mutationId?: number });
    });
    // Observe subscribe replies (ops or snapshot) before the replica handles them.
    const request = client.request.bind(client);
    client.request = (command, options) => {
      const p = request(command, options);
      const input = anyCommand(command);
      if (input.type === 'doc.subscribe') {
        p.then(
          (r) => trackers.get(input.doc)?.reply(r as DocSubscribeResult),
          () => undefined,
        );
      }
      return p;
    };
    for (const doc of docs) {
      const tracker = new ApplyTracker(name, doc, recorder);
      trackers.set(doc, tracker);
      const replica = client.doc(doc, { mutators: CLUSTER_MUTATORS }) as CounterReplica;
      replica.subscribe(() => tracker.changed(replica.version));
      tracker.changed(replica.version);
      this.#replicas.push({ name, doc, replica, outstanding: 0 });
    }
    return client;
  }

  async #writeLoop(client: SynclineClient, w: number): Promise<void> {
    const { rng, pauseMs, recorder } = this.#options;
    const mine = this.#replicas.filter((r) => r.name === `writer-${w}`);
    for (let n = 1; this.#running && n <= MAX_MUTATIONS; n++) {
      const r = mine[Math.floor(rng() * mine.length)] as TrackedReplica;
      if (r.outstanding < MAX_OUTSTANDING_PER_REPLICA && client.state !== 'closed') {
        const args = { tag: `${w}-${n}` };
        const done = r.replica.mutate.add(args);
        // The replica queues a mutation synchronously: the last pending one is this one.
        const mutationId = r.replica.pending.at(-1)?.mutationId;
        if (mutationId === undefined) throw new Error(`${r.name}: no pending mutation after mutate.add`);
        const h = recorder.mutationInvoked({ doc: r.doc, clientId: r.replica.clientId, mutationId, name: 'add', args });
        r.outstanding++;
        done.then(
          (res) => {
            r.outstanding--;
            this.#count(res.duplicate === true ? 'duplicate' : 'acked');
            h.acked(res.duplicate === true ? { version: res.version, duplicate: true } : { version: res.version });
          },
          (err: unknown) => {
            r.outstanding--;
            const code = errorCode(err) || 'no_code';
            this.#count(code);
            if (code === 'client_closed') h.unknown(code);
            else h.rejected(code);
          },
        );
      }
      await delay(between(rng, Math.round(pauseMs / 2), Math.round((pauseMs * 3) / 2)));
    }
  }

  #count(k: string): void {
    this.outcomes.set(k, (this.outcomes.get(k) ?? 0) + 1);
  }
}

/** A document's state and version through a node's HTTP API. */
export async function readDoc(nodeUrl: string, doc: string): Promise<{ version: number; state: unknown }> {
  const res = await fetch(`${nodeUrl}/v1/docs/${encodeURIComponent(doc)}`, {
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  if (res.status !== 200) throw new Error(`doc ${doc} on ${nodeUrl}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as { version: number; state: unknown };
}
