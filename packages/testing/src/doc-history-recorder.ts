import type {
  MutationAttempt,
  MutationOutcome,
  OpLogEntry,
  RecordedDocHistory,
  ReplicaApplyEvent,
  ReplicaFinal,
  ServerFinal,
} from './doc-history.js';

/** The outcome side of one mutation attempt: call exactly one method once its fate is known. */
export interface MutationHandle {
  readonly id: number;
  /** The server answered with the document's version (`duplicate` when it had the mutation id already). */
  acked(result: { readonly version: number; readonly duplicate?: boolean }): void;
  /** The server answered with an error code. */
  rejected(code: string): void;
  /** No answer: it may or may not have been applied. */
  unknown(reason: string): void;
}

/** A mutation attempt, as given to {@link DocHistoryRecorder.mutationInvoked}. */
export interface MutationInvocation {
  readonly doc: string;
  readonly clientId: string;
  readonly mutationId: number;
  readonly name: string;
  readonly args: unknown;
  /** False when the mutator may change nothing (see {@link MutationAttempt.expectOp}). */
  readonly expectOp?: boolean;
}

/** A version a replica applied, as given to {@link DocHistoryRecorder.applied}. */
export interface ReplicaApplyInput {
  readonly replica: string;
  readonly doc: string;
  readonly kind: 'patch' | 'snapshot';
  readonly version: number;
  readonly clientId?: string | undefined;
  readonly mutationId?: number | undefined;
}

interface MutableAttempt {
  readonly invocation: MutationInvocation;
  readonly invokedAt: number;
  outcome: MutationOutcome;
  completedAt?: number;
}

/**
 * Records document traffic as a chaos test makes it, for
 * {@link checkDocHistory}: every mutation attempt and its outcome, every
 * server version each replica applied, and once the run is quiet each
 * replica's and the server's final state.
 *
 * Contract: the versions one replica applied must be recorded in the order it
 * applied them; everything else may interleave. States must be JSON values;
 * they are copied when recorded. Not thread-safe beyond the JS event loop.
 */
export class DocHistoryRecorder {
  readonly #now: () => number;
  readonly #start: number;
  readonly #attempts: MutableAttempt[] = [];
  readonly #applied: ReplicaApplyEvent[] = [];
  readonly #replicas = new Map<string, ReplicaFinal>();
  readonly #servers = new Map<string, ServerFinal>();

  /** `now` is the clock stamped on events (ms); the history holds times relative to construction. */
  constructor(options: { readonly now?: () => number } = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  #at(): number {
    return Math.round((this.#now() - this.#start) * 1000) / 1000;
  }

  /** Records that a mutation was sent; settle the handle with its outcome. A resend is a new attempt. */
  mutationInvoked(invocation: MutationInvocation): MutationHandle {
    const attempt: MutableAttempt = { invocation, invokedAt: this.#at(), outcome: { kind: 'pending' } };
    const id = this.#attempts.push(attempt) - 1;
    const settle = (outcome: MutationOutcome): void => {
      if (attempt.outcome.kind !== 'pending') {
        throw new Error(`Mutation attempt ${id} was already settled as ${attempt.outcome.kind}`);
      }
      attempt.outcome = outcome;
      attempt.completedAt = this.#at();
    };
    return {
      id,
      acked: ({ version, duplicate }) =>
        settle(duplicate === undefined ? { kind: 'acked', version } : { kind: 'acked', version, duplicate }),
      rejected: (code) => settle({ kind: 'rejected', code }),
      unknown: (reason) => settle({ kind: 'unknown', reason }),
    };
  }

  /** Records a server version a replica applied (a patch or a snapshot). */
  applied(a: ReplicaApplyInput): void {
    this.#applied.push({
      replica: a.replica,
      doc: a.doc,
      kind: a.kind,
      version: a.version,
      ...(a.clientId === undefined ? {} : { clientId: a.clientId }),
      ...(a.mutationId === undefined ? {} : { mutationId: a.mutationId }),
      at: this.#at(),
    });
  }

  /** Records a replica's final state (a deep copy); the latest call per replica and document wins. */
  replicaFinal(f: ReplicaFinal): void {
    this.#replicas.set(`${f.replica}\u0000${f.doc}`, {
      replica: f.replica,
      doc: f.doc,
      version: f.version,
      state: structuredClone(f.state),
    });
  }

  /** Records the server's final state (a deep copy) and op log; the latest call per document wins. */
  serverFinal(f: ServerFinal): void {
    const ops: OpLogEntry[] | undefined = f.ops?.map((o) => ({
      version: o.version,
      ...(o.clientId === undefined ? {} : { clientId: o.clientId }),
      ...(o.mutationId === undefined ? {} : { mutationId: o.mutationId }),
    }));
    this.#servers.set(f.doc, {
      doc: f.doc,
      version: f.version,
      state: structuredClone(f.state),
      ...(ops === undefined ? {} : { ops }),
    });
  }

  /** A snapshot of everything recorded so far: plain JSON-serialisable data. */
  history(): RecordedDocHistory {
    const mutations: MutationAttempt[] = this.#attempts.map((a, id) => ({
      id,
      doc: a.invocation.doc,
      clientId: a.invocation.clientId,
      mutationId: a.invocation.mutationId,
      name: a.invocation.name,
      args: a.invocation.args,
      outcome: a.outcome,
      ...(a.invocation.expectOp === false ? { expectOp: false as const } : {}),
      invokedAt: a.invokedAt,
      ...(a.completedAt === undefined ? {} : { completedAt: a.completedAt }),
    }));
    return {
      mutations,
      applied: [...this.#applied],
      replicas: [...this.#replicas.values()],
      servers: [...this.#servers.values()],
    };
  }
}
