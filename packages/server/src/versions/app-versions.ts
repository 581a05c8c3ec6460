import {
  type AppUpdateInfo,
  type AppVersionConfig,
  checkAppVersionConfig,
  PROTOCOL_FEATURES,
  SynclineError,
  type UpdateMessage,
  updateStatusFor,
} from '@syncline/protocol';
import type { Logger } from 'pino';
import type { Session } from '../session/session.js';
import { defineSlot } from '../session/session-slot.js';
import { migrate, type SqliteDatabase } from '../storage/sqlite.js';

/** The session slot of a connection's last verdict (kept only while the server judges app versions). */
const APP_UPDATE_SLOT = defineSlot<AppUpdateInfo>('appUpdate', () => ({ status: 'none' }));

const MIGRATION = `CREATE TABLE app_version (id INTEGER PRIMARY KEY CHECK (id = 1), version TEXT NOT NULL, updated_at INTEGER NOT NULL);`;

/** What `setAppVersion` did on this node. */
export interface AppAnnounceResult {
  /** The server's app version now. */
  readonly version: string | undefined;
  /** Connected sessions whose verdict changed and were pushed an `update` (protocol 2+). */
  readonly notified: number;
  /** Connected sessions by verdict, after the change. */
  readonly sessions: Readonly<Record<AppUpdateInfo['status'], number>>;
}

function same(a: AppUpdateInfo | undefined, b: AppUpdateInfo): boolean {
  return (
    a !== undefined &&
    a.status === b.status &&
    a.version === b.version &&
    a.message === b.message &&
    a.minClientVersion === b.minClientVersion &&
    a.recommendedClientVersion === b.recommendedClientVersion
  );
}

/**
 * The server's app version settings and each session's verdict
 * (`none`/`available`/`required`). Sessions of protocol 2+ get the verdict
 * in the connect reply and an `update` push whenever it changes; writes of
 * a session whose verdict is `required` are refused with `client_outdated`.
 */
export class AppVersions {
  #config: AppVersionConfig | undefined;
  readonly #sessions: ReadonlySet<Session>;
  readonly #logger: Logger;
  /** The version stored by the previous run, when it differs from this one. */
  readonly previousVersion: string | undefined;

  constructor(
    config: AppVersionConfig | undefined,
    sessions: ReadonlySet<Session>,
    db: SqliteDatabase,
    logger: Logger,
  ) {
    if (config) checkAppVersionConfig(config);
    this.#config = config;
    this.#sessions = sessions;
    this.#logger = logger;
    migrate(db, 'app-version-1', MIGRATION);
    const row = db.prepare<[], { version: string }>('SELECT version FROM app_version WHERE id = 1').get();
    this.previousVersion = row && row.version !== config?.version ? row.version : undefined;
    if (config) {
      db.prepare(
        'INSERT INTO app_version (id, version, updated_at) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at',
      ).run(config.version, Date.now());
      if (row && row.version !== config.version) {
        // Clients reconnecting after this restart get the new verdict in their connect reply.
        logger.info({ from: row.version, to: config.version }, 'app version changed since the last run');
      }
    }
  }

  /** The current settings (undefined: the server judges no app versions). */
  get config(): AppVersionConfig | undefined {
    return this.#config;
  }

  /** Computes and remembers a session's verdict (at connect). */
  assess(session: Session): AppUpdateInfo {
    const info = updateStatusFor(session.app?.version, this.#config);
    // Without settings every verdict is `none`, which `statusOf` derives:
    // nothing is kept per connection.
    if (this.#config === undefined) {
      session.clearSlot(APP_UPDATE_SLOT);
    } else session.setSlot(APP_UPDATE_SLOT, info);
    return info;
  }

  /** A session's last verdict. */
  statusOf(session: Session): AppUpdateInfo {
    return session.peek(APP_UPDATE_SLOT) ?? { status: 'none' };
  }

  /** Throws `client_outdated` when the session's app version is below the minimum. */
  assertCurrent(session: Session): void {
    const info = this.statusOf(session);
    if (info.status !== 'required') return;
    throw new SynclineError(
      'client_outdated',
      info.message ??
        `App version ${session.app?.version ?? '(none)'} is older than the minimum ${info.minClientVersion ?? ''}; reload to update.`,
      {
        details: {
          reason: 'app',
          clientVersion: session.app?.version,
          minClientVersion: info.minClientVersion,
          version: info.version,
        },
      },
    );
  }

  /**
   * Replaces the settings at runtime: every connected session is judged
   * again, and those whose verdict changed are pushed `update` (protocol 2+).
   */
  set(config: AppVersionConfig | undefined): AppAnnounceResult {
    if (config) checkAppVersionConfig(config);
    this.#config = config;
    let notified = 0;
    const sessions = { none: 0, available: 0, required: 0 };
    for (const s of this.#sessions) {
      if (s.state !== 'connected') continue;
      const before = this.statusOf(s);
      const info = this.assess(s);
      sessions[info.status]++;
      if (same(before, info) || s.protocol < PROTOCOL_FEATURES['app-update']) continue;
      const push: UpdateMessage = { type: 'update', update: info };
      s.send(push);
      notified++;
    }
    this.#logger.info({ version: config?.version, notified }, 'app version announced');
    return { version: config?.version, notified, sessions };
  }
}
