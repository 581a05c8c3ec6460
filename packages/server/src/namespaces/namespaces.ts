import { isStandardSchema, parseName, type StandardSchemaV1, SynclineError } from '@syncline/protocol';
import { INTERNAL_NAMESPACE_PREFIX } from '../auth/capabilities.js';

/** History retention of a namespace. */
export interface HistoryOptions {
  /** Publications kept per channel (0: none, recovery impossible). */
  readonly size: number;
  /** How long a publication is kept, ms. */
  readonly ttlMs: number;
}

/** Options of one channel namespace (`namespace:rest`). */
export interface NamespaceOptions {
  /** Retained history; defaults to 100 publications for 10 minutes. */
  readonly history?: Partial<HistoryOptions>;
  /**
   * Who may publish from a client connection: `clients` (any client whose token
   * allows `publish`), `subscribers` (only while subscribed, and allowed), or
   * `none` (server and HTTP API only). Default `clients`.
   */
  readonly allowPublish?: 'clients' | 'subscribers' | 'none';
  /** Whether subscribers may recover missed publications from history (default true). */
  readonly recover?: boolean;
  /**
   * How far back (ms) a subscribe's `since` position may be replayed without
   * the `history` capability (default 120,000). Older positions, or positions
   * from before what the connection's user could have seen, get
   * `recovered: false` and start from the top unless the token allows `history`.
   */
  readonly recoverWindowMs?: number;
  /** Presence in channels of this namespace (default false); an object turns it on with options. */
  readonly presence?: boolean | PresenceNamespaceOptions;
  /**
   * Schema of publication data (any Standard Schema: valibot, zod, arktype …).
   * Publishes from clients, the HTTP API and `server.publish` whose data
   * fails it are refused with `invalid_data` and nothing is stored. The
   * data is stored and delivered as sent (the schema checks, it does not
   * transform). Clients created with the config's type get it as the type
   * of `publish` and of received publications.
   */
  readonly data?: StandardSchemaV1;
}

/** Presence options of one namespace. */
export interface PresenceNamespaceOptions {
  /** Most presence entries one channel holds; the entry past it gets `limit_exceeded` (default 10,000). */
  readonly maxMembers?: number;
  /** Schema of presence state (Standard Schema): an enter or update whose state fails it gets `invalid_data`. */
  readonly state?: StandardSchemaV1;
}

/** Namespace options with every default filled in. */
export interface ResolvedNamespace {
  readonly name: string;
  readonly history: HistoryOptions;
  readonly allowPublish: 'clients' | 'subscribers' | 'none';
  readonly recover: boolean;
  readonly recoverWindowMs: number;
  readonly presence: boolean;
  /** Most presence entries per channel (meaningful when `presence`). */
  readonly presenceMaxMembers: number;
  /** Schema of publication data, when declared. */
  readonly data: StandardSchemaV1 | undefined;
  /** Schema of presence state, when declared. */
  readonly presenceState: StandardSchemaV1 | undefined;
}

/** Default history size per channel. */
export const DEFAULT_HISTORY_SIZE = 100;
/** Default history TTL. */
export const DEFAULT_HISTORY_TTL_MS = 10 * 60_000;
/** Default recovery window without the `history` capability. */
export const DEFAULT_RECOVER_WINDOW_MS = 120_000;
/** Default most presence entries per channel. */
export const DEFAULT_PRESENCE_MAX_MEMBERS = 10_000;

/** Fills in defaults. */
export function resolveNamespace(name: string, o: NamespaceOptions): ResolvedNamespace {
  const presenceState = typeof o.presence === 'object' ? o.presence.state : undefined;
  for (const [what, schema] of [
    ['data', o.data],
    ['presence.state', presenceState],
  ] as const) {
    if (schema !== undefined && !isStandardSchema(schema)) {
      throw new Error(`Namespace "${name}": ${what} must be a Standard Schema (valibot, zod, arktype …).`);
    }
  }
  return {
    name,
    history: {
      size: Math.max(0, Math.floor(o.history?.size ?? DEFAULT_HISTORY_SIZE)),
      ttlMs: Math.max(1, Math.floor(o.history?.ttlMs ?? DEFAULT_HISTORY_TTL_MS)),
    },
    allowPublish: o.allowPublish ?? 'clients',
    recover: o.recover ?? true,
    recoverWindowMs: Math.max(0, Math.floor(o.recoverWindowMs ?? DEFAULT_RECOVER_WINDOW_MS)),
    presence: o.presence !== undefined && o.presence !== false,
    presenceMaxMembers: Math.max(
      1,
      Math.floor((typeof o.presence === 'object' ? o.presence.maxMembers : undefined) ?? DEFAULT_PRESENCE_MAX_MEMBERS),
    ),
    data: o.data,
    presenceState,
  };
}

/**
 * Throws when a config declares a channel or document namespace of the
 * server's own (`syncline-…`, which no token reaches).
 */
export function assertAppNamespaces(names: Iterable<string>): void {
  for (const name of names) {
    if (name.startsWith(INTERNAL_NAMESPACE_PREFIX)) {
      throw new Error(
        `Namespace "${name}": names starting with "${INTERNAL_NAMESPACE_PREFIX}" are reserved for the server.`,
      );
    }
  }
}

/** The configured namespaces, looked up by channel name. */
export class NamespaceRegistry {
  readonly #byName = new Map<string, ResolvedNamespace>();

  constructor(namespaces: Readonly<Record<string, NamespaceOptions>>) {
    for (const [name, o] of Object.entries(namespaces)) this.#byName.set(name, resolveNamespace(name, o));
  }

  /** All namespaces. */
  all(): ResolvedNamespace[] {
    return [...this.#byName.values()];
  }

  /** Namespace of a channel; throws `bad_channel` or `unknown_namespace`. */
  forChannel(channel: string): ResolvedNamespace {
    const parsed = parseName(channel);
    if (!parsed) {
      throw new SynclineError(
        'bad_channel',
        `Malformed channel name "${channel.slice(0, 80)}"; expected "namespace:name".`,
      );
    }
    const ns = this.#byName.get(parsed.namespace);
    if (!ns) throw new SynclineError('unknown_namespace', `Namespace "${parsed.namespace}" is not configured.`);
    return ns;
  }
}
