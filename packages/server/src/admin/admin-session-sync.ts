import type { Logger } from 'pino';
import * as v from 'valibot';
import type { NodeBus } from '../cluster/node-bus.js';
import { migrate, type SqliteDatabase } from '../storage/sqlite.js';
import { MAX_ADMIN_SESSIONS } from './admin-options.js';
import type { LedgerState } from './admin-session-ledger.js';
import type { AdminSessions } from './admin-sessions.js';

/** Node bus channel carrying the console session ledger (`{ op: 'state', state, mac }` or `{ op: 'ask' }`). */
export const ADMIN_SESSIONS_CHANNEL = '$syncline:admin-sessions';
/** How often a node sends its ledger again, ms (so a node that missed a sign-out catches up within it). */
export const ADMIN_SESSIONS_RESEND_MS = 15_000;

const MIGRATION = `
CREATE TABLE admin_session_ledger (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  state TEXT NOT NULL
);
`;

const Sid = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{22}$/));
const Time = v.pipe(v.number(), v.integer(), v.minValue(0));
const State = v.strictObject({
  floor: v.nullable(v.strictObject({ at: Time, sid: Sid })),
  sessions: v.pipe(
    v.array(v.strictObject({ sid: Sid, at: Time, exp: Time, ended: v.boolean() })),
    v.maxLength(MAX_ADMIN_SESSIONS),
  ),
});

/**
 * Shares a node's console session ledger with the other nodes and keeps it
 * across restarts:
 *
 * - every change made here (sign-in, sign-out, a session learned from its
 *   cookie) is written to the node's embedded database and sent on the node
 *   bus as the whole ledger (at most {@link MAX_ADMIN_SESSIONS} entries),
 *   signed with a key derived from the admin key; nodes merge what they
 *   receive (a state signed under another key is ignored);
 * - a node asks for the others' ledgers when it starts, and every node sends
 *   its own again every {@link ADMIN_SESSIONS_RESEND_MS}, so one that missed
 *   a message (cut off from the broker, or restarted) catches up within it.
 *
 * Contract: `announce()` resolves once the broker accepted the latest state
 * (or at once on a single node); it never rejects (a failure is logged and
 * the next resend repairs it).
 */
export class AdminSessionSync {
  readonly #sessions: AdminSessions;
  readonly #bus: NodeBus;
  readonly #logger: Logger;
  readonly #save: (state: string) => void;
  readonly #onMerged: () => void;
  #sending: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  /** `onMerged` runs after another node's ledger changed this one (sessions may have ended). */
  constructor(options: {
    sessions: AdminSessions;
    bus: NodeBus;
    db: SqliteDatabase;
    logger: Logger;
    onMerged: () => void;
  }) {
    const { sessions, bus, db, logger } = options;
    this.#onMerged = options.onMerged;
    this.#sessions = sessions;
    this.#bus = bus;
    this.#logger = logger;
    migrate(db, 'admin_session_ledger_v1', MIGRATION);
    const upsert = db.prepare(
      'INSERT INTO admin_session_ledger (id, state) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state',
    );
    this.#save = (state) => upsert.run(state);
    const row = db.prepare<[], { state: string }>('SELECT state FROM admin_session_ledger WHERE id = 1').get();
    if (row) this.#merge(row.state, 'stored');
    sessions.subscribe(() => {
      this.#store();
      this.#sending = this.#send();
    });
  }

  /** Listens for the other nodes' ledgers, asks for them, and starts the periodic resend. */
  async start(): Promise<void> {
    if (this.#timer || !this.#bus.clustered) return;
    this.#timer = setInterval(() => {
      const s = this.#sessions.ledger.state();
      if (s.floor !== null || s.sessions.length > 0) this.#sending = this.#send();
    }, ADMIN_SESSIONS_RESEND_MS);
    this.#timer.unref();
    await this.#bus.listen(ADMIN_SESSIONS_CHANNEL, (body) => {
      if (body.op === 'ask') {
        this.#sending = this.#send();
        return;
      }
      if (body.op !== 'state' || typeof body.state !== 'string' || typeof body.mac !== 'string') {
        throw new TypeError('malformed console session ledger');
      }
      if (!this.#sessions.keys.verify('ledger', body.state, body.mac)) {
        this.#logger.warn('ignored a console session ledger signed under another admin key');
        return;
      }
      if (this.#merge(body.state, 'received')) {
        this.#store();
        this.#onMerged();
      }
    });
    await this.#bus.send(ADMIN_SESSIONS_CHANNEL, { op: 'ask' }).catch((err: unknown) => {
      this.#logger.warn({ err }, 'cannot ask the other nodes for their console sessions');
    });
  }

  /** Resolves once the latest change was handed to the broker (see the contract). */
  announce(): Promise<void> {
    return this.#sending;
  }

  /** Stops the periodic resend. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #merge(text: string, what: string): boolean {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const r = v.safeParse(State, parsed);
    if (!r.success) {
      this.#logger.warn({ what }, 'ignored a malformed console session ledger');
      return false;
    }
    return this.#sessions.ledger.merge(r.output as LedgerState);
  }

  #store(): void {
    try {
      this.#save(JSON.stringify(this.#sessions.ledger.state()));
    } catch (err) {
      this.#logger.error({ err }, 'cannot store the console session ledger');
    }
  }

  async #send(): Promise<void> {
    if (!this.#bus.clustered) return;
    const state = JSON.stringify(this.#sessions.ledger.state());
    try {
      await this.#bus.send(ADMIN_SESSIONS_CHANNEL, {
        op: 'state',
        state,
        mac: this.#sessions.keys.sign('ledger', state),
      });
    } catch (err) {
      this.#logger.warn({ err }, 'cannot send the console session ledger to the other nodes');
    }
  }
}
