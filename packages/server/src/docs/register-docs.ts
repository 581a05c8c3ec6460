import { SynclineError, toSynclineError } from '@syncline/protocol';
import type { ServerCore } from '../core.js';
import { takeToken } from '../session/rate-bucket.js';
import { forbidden, REPLIED } from '../session/session.js';
import { DocEngine } from './doc-engine.js';
import { type DocFanout, LocalDocFanout } from './doc-fanout.js';
import { registerDocMetrics } from './doc-metrics.js';
import { type DocNamespaceOptions, DocNamespaces } from './doc-namespaces.js';
import type { DocStore } from './doc-store.js';
import { DocSubscribers, SESSION_DOCS_SLOT } from './doc-subscribers.js';
import type { DocsApi } from './docs-api.js';
import { MutatorGuard } from './mutator-guard.js';
import { MutatorTimeBudget } from './mutator-time.js';
import { assertMutatorVersion } from './mutator-versions.js';
import { cancelSnapshot, replySubscribe } from './snapshot-sender.js';
import { SqliteDocStore } from './sqlite-doc-store.js';

/**
 * Longest a document command waits on storage before it is answered
 * `unavailable` (with `retryAfterMs`). The work itself goes on: a mutation
 * that commits after all is applied once, and its resend (same id) is
 * acknowledged as a duplicate.
 */
export const DOC_COMMAND_DEADLINE_MS = 2_500;

/** The answer of a document command that waited past `DOC_COMMAND_DEADLINE_MS`. */
function storageTooSlow(): SynclineError {
  return new SynclineError('unavailable', 'Document storage is not answering; retry shortly.', {
    retryAfterMs: 1_000,
  });
}

/** Options of `registerDocs`. */
export interface RegisterDocsOptions {
  /** Document namespaces and their options. */
  readonly namespaces: Readonly<Record<string, DocNamespaceOptions>>;
  /** Document storage (default: SQLite in the server's database). */
  readonly store?: DocStore;
  /** Fan-out between nodes (default: in process). */
  readonly fanout?: DocFanout;
  /** Documents one connection may subscribe to (default 512). */
  readonly maxDocsPerConnection?: number;
}

/**
 * Enables documents on a server: registers `doc.subscribe`,
 * `doc.unsubscribe` and `doc.mutate` and returns the server-side API, which
 * the HTTP API's document routes (`docRoutes`) call.
 */
export function registerDocs(core: ServerCore, options: RegisterDocsOptions): DocsApi {
  const namespaces = new DocNamespaces(options.namespaces);
  const store = options.store ?? new SqliteDocStore(core.db);
  const fanout =
    options.fanout ?? new LocalDocFanout((err, doc) => core.logger.error({ err, doc }, 'document delivery failed'));
  const maxDocs = options.maxDocsPerConnection ?? 512;
  const metrics = registerDocMetrics(core.metrics.registry);
  let engine: DocEngine | undefined;
  const subscribers = new DocSubscribers(fanout, (doc) => engine?.maybeIdle(doc));
  engine = new DocEngine({
    namespaces,
    store,
    fanout,
    logger: core.logger,
    hasSubscribers: (doc) => subscribers.count(doc) > 0,
    guard: new MutatorGuard(core.limits.mutatorTimeoutMs),
  });
  const docs = engine;

  core.command('doc.subscribe', async (session, cmd) => {
    namespaces.forDoc(cmd.doc);
    if (!session.principal?.can.allows('read', cmd.doc)) throw forbidden('read', cmd.doc);
    if (subscribers.has(cmd.doc, session)) {
      throw new SynclineError('already_subscribed', `Already subscribed to "${cmd.doc}".`);
    }
    if ((session.peek(SESSION_DOCS_SLOT)?.size ?? 0) >= maxDocs) {
      throw new SynclineError('limit_exceeded', `A connection may subscribe to at most ${maxDocs} documents.`, {
        details: { limit: 'maxDocsPerConnection', value: maxDocs },
      });
    }
    // Answered `unavailable` if storage does not answer in time; a late result is then dropped.
    let answered = false;
    const deadline = setTimeout(() => {
      answered = true;
      session.replyError(cmd.id, storageTooSlow());
    }, DOC_COMMAND_DEADLINE_MS);
    try {
      await docs.subscribe(cmd.doc, { version: cmd.version, clientId: cmd.clientId }, (result, current) => {
        if (answered || session.closed) return;
        answered = true;
        replySubscribe(session, cmd, result, current, session.maxQueueBytes);
        subscribers.add(cmd.doc, session);
      });
    } catch (err) {
      if (!answered) throw err;
    } finally {
      clearTimeout(deadline);
    }
    return REPLIED;
  });

  core.command('doc.unsubscribe', (session, cmd) => {
    cancelSnapshot(session, cmd.doc);
    if (!subscribers.remove(cmd.doc, session)) {
      throw new SynclineError('not_subscribed', `Not subscribed to "${cmd.doc}".`);
    }
    return {};
  });

  const mutatorTime = new MutatorTimeBudget(core.limits.mutatorMsPerSec, core.limits.mutatorBurstMs);
  core.command('doc.mutate', (session, cmd) => {
    try {
      core.assertClientCurrent(session);
      assertMutatorVersion(namespaces.forDoc(cmd.doc), cmd.mutatorVersion);
      if (!session.principal?.can.allows('mutate', cmd.doc)) throw forbidden('mutate', cmd.doc);
      // Before the engine: a limited mutation is not applied and does not use up its id.
      const { mutateRatePerSec: ratePerSec, mutateBurst: burst } = core.limits;
      takeToken(session, { key: 'mutateBucket', ratePerSec, burst, what: 'Mutation' });
      mutatorTime.check(session.user);
    } catch (err) {
      // Refused before the engine, answered after the replies of the mutations queued before it.
      return docs.afterQueued(cmd.doc).then(() => Promise.reject(err));
    }
    let settled = false;
    // Answered `unavailable` if storage does not answer in time; the mutation may still be applied
    // (its resend is then a duplicate), and its late verdict is not sent.
    let timedOut = false;
    const deadline = setTimeout(() => {
      if (settled) return;
      timedOut = true;
      session.replyError(cmd.id, storageTooSlow());
    }, DOC_COMMAND_DEADLINE_MS);
    const endTimer = metrics.mutationDuration.startTimer();
    const input = {
      name: cmd.name,
      args: cmd.args,
      clientId: cmd.clientId,
      mutationId: cmd.mutationId,
      userId: session.user,
      ageMs: cmd.ageMs,
      // Checked again when the mutator is about to run: mutations queued together are each judged.
      beforeMutator: () => mutatorTime.check(session.user),
      onMutatorTime: (ms: number) => mutatorTime.charge(session.user, ms),
    };
    // The reply goes out inside the document's queue: replies and patches keep the server order.
    return docs
      .mutate(cmd.doc, input, (result, error) => {
        settled = true;
        clearTimeout(deadline);
        endTimer({ outcome: error === undefined ? 'ok' : 'error' });
        if (timedOut) return;
        if (error === undefined) {
          session.reply(cmd.id, result);
          return;
        }
        const e = toSynclineError(error);
        if (e.code === 'internal') core.logger.error({ err: error, doc: cmd.doc }, 'mutation failed');
        session.replyError(cmd.id, e);
      })
      .then(
        () => REPLIED,
        (err: unknown) => {
          clearTimeout(deadline);
          if (settled || timedOut) return REPLIED;
          throw err;
        },
      );
  });

  core.sessionEvents.closed.add((session) => subscribers.removeSession(session));
  core.sessionEvents.refreshed.add((session) => {
    for (const doc of [...(session.peek(SESSION_DOCS_SLOT) ?? [])]) {
      if (session.principal?.can.allows('read', doc)) continue;
      subscribers.remove(doc, session);
      session.send({
        type: 'doc.unsubscribed',
        doc,
        code: 'forbidden',
        message: 'The new token does not allow reading it.',
      });
    }
  });

  const api: DocsApi = {
    get: async (doc) => docs.get(doc),
    mutate: async (doc, mutator, args, o = {}) =>
      docs.mutate(doc, { name: mutator, args, clientId: o.clientId, mutationId: o.mutationId, userId: o.userId }),
    store,
    namespaces,
    get loadedCount() {
      return docs.loadedCount;
    },
    subscriberCount: (doc) => subscribers.count(doc),
    async close() {
      await docs.close();
      await fanout.close();
      await store.close();
    },
  };
  return api;
}
