import {
  type BackendName,
  type CommandType,
  type NodeStatus,
  PROTOCOL_FEATURES,
  type StatusMessage,
  SynclineError,
} from '@syncline/protocol';
import type { Logger } from 'pino';
import type { Session } from '../session/session.js';
import type { BackendHealth, HealthReporter } from './backend-health.js';

/** `retryAfterMs` of commands refused because a backend is down. */
export const BACKEND_DOWN_RETRY_MS = 1_000;

/** Backends in the order a status names them (`reason` is the first one down). */
const BACKENDS: readonly BackendName[] = ['broker', 'docs'];

/** What each backend's loss stops, in the words clients see. */
const REFUSALS: Record<BackendName, string> = {
  broker: 'The message broker is unavailable; retry shortly.',
  docs: 'Document storage is unavailable; retry shortly.',
};

/** The backend a command needs, if it needs one this node tracks (unsubscribes never do: they are local). */
export function backendOf(type: CommandType): BackendName | undefined {
  if (type.endsWith('unsubscribe')) return undefined;
  if (type === 'subscribe' || type === 'history' || type.startsWith('presence.')) return 'broker';
  if (type.startsWith('doc.')) return 'docs';
  return undefined;
}

/** Options of `NodeHealth`. */
export interface NodeHealthOptions {
  readonly logger: Logger;
  /** Every session of the node (told of changes when connected on protocol 3+). */
  readonly sessions: ReadonlySet<Session>;
  /** Health seams of the node's backends (absent: always up). */
  readonly backends: Partial<Record<BackendName, Partial<HealthReporter> | undefined>>;
  /** Called on every change of a backend (metrics). */
  readonly onChange?: (backend: BackendName, up: boolean) => void;
}

/**
 * The node's view of its backends (broker, document storage): what
 * `/readyz` reports, which commands are refused at once, and the `status`
 * pushes clients get.
 *
 * Contract:
 * - A backend whose adapter reports down is down for the node at once:
 *   `/readyz` turns 503, commands needing it (`subscribe`, `history`,
 *   `presence.*` for the broker; `doc.*` for documents) answer `unavailable`
 *   with `retryAfterMs` without waiting on the backend, and every connected
 *   protocol-3 session is pushed `status` (`degraded: true`).
 * - When every backend is up again, sessions are pushed `degraded: false`.
 * - The adapter's own reason goes to the log (warn), never to clients.
 */
export class NodeHealth {
  readonly #logger: Logger;
  readonly #sessions: ReadonlySet<Session>;
  readonly #down = new Set<BackendName>();
  readonly #onChange: (backend: BackendName, up: boolean) => void;
  readonly #stops: Array<() => void> = [];

  constructor(options: NodeHealthOptions) {
    this.#logger = options.logger;
    this.#sessions = options.sessions;
    this.#onChange = options.onChange ?? (() => undefined);
    for (const name of BACKENDS) {
      const reporter = options.backends[name];
      if (!reporter?.health || !reporter.onHealth) continue;
      const initial = reporter.health();
      if (!initial.up) this.#set(name, initial);
      this.#stops.push(reporter.onHealth((h) => this.#set(name, h)));
    }
  }

  /** True when every backend is up. */
  get healthy(): boolean {
    return this.#down.size === 0;
  }

  /** `up`/`down` of each backend, for `/readyz`. */
  backends(): Record<BackendName, 'up' | 'down'> {
    return { broker: this.#down.has('broker') ? 'down' : 'up', docs: this.#down.has('docs') ? 'down' : 'up' };
  }

  /** The status clients are told. */
  status(): NodeStatus {
    const down = BACKENDS.filter((b) => this.#down.has(b));
    const first = down[0];
    return first === undefined ? { degraded: false, down } : { degraded: true, reason: first, down };
  }

  /** Throws `unavailable` (with `retryAfterMs`) when `type` needs a backend that is down. */
  assertServable(type: CommandType): void {
    const backend = backendOf(type);
    if (backend === undefined || !this.#down.has(backend)) return;
    throw new SynclineError('unavailable', REFUSALS[backend], {
      retryAfterMs: BACKEND_DOWN_RETRY_MS,
      details: { backend },
    });
  }

  /** Stops listening to the backends. */
  close(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }

  #set(name: BackendName, health: BackendHealth): void {
    const wasDown = this.#down.has(name);
    if (wasDown === !health.up) return;
    if (health.up) {
      this.#down.delete(name);
      this.#logger.info({ backend: name }, 'backend is back');
    } else {
      this.#down.add(name);
      this.#logger.warn({ backend: name, reason: health.reason }, 'backend unavailable');
    }
    this.#onChange(name, health.up);
    const push: StatusMessage = { type: 'status', ...this.status() };
    for (const s of this.#sessions) {
      if (s.state === 'connected' && s.protocol >= PROTOCOL_FEATURES.status) s.send(push);
    }
  }
}
