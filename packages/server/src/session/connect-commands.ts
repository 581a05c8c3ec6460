import {
  type AppUpdateInfo,
  type CloseCodeName,
  type ConnectResult,
  MIN_PROTOCOL_VERSION,
  type NodeStatus,
  negotiateProtocol,
  PROTOCOL_FEATURES,
  PROTOCOL_VERSION,
  protocolFeatures,
  type RefreshResult,
  SynclineError,
  toSynclineError,
} from '@syncline/protocol';
import type { Principal } from '../auth/token-verifier.js';
import type { ServerCore } from '../core.js';
import type { ConnectionInfo } from '../hooks.js';
import { REPLIED, type Session } from './session.js';

/** Hook context of a connected session. */
export function connectionInfo(session: Session): ConnectionInfo {
  return {
    session: session.id,
    user: session.user,
    principal: session.principal as Principal,
    transport: session.conn.transport,
    app: session.app,
  };
}

/** Options of the connect command. */
export interface ConnectOptions {
  readonly pingIntervalMs: number;
  readonly features: readonly string[];
  /** Extra checks on a verified principal (revocation); throw to refuse. */
  readonly admit: (principal: Principal, session: Session) => void;
  /** Protocol versions this node accepts (default `MIN_PROTOCOL_VERSION..PROTOCOL_VERSION`). */
  readonly protocol?: { readonly min: number; readonly max: number };
  /** The verdict on the session's app version (sent to protocol 2+ sessions). */
  readonly appUpdate?: (session: Session) => AppUpdateInfo;
  /** The node's status (sent to protocol 3+ sessions while degraded). */
  readonly status?: () => NodeStatus;
  /**
   * Authenticates a `connect` without a token (the connect proxy): resolves
   * with the principal and any `data` for the client, or rejects with the
   * error the client gets. Without it a token is required.
   */
  readonly authenticate?: ConnectAuthenticator | undefined;
}

/** What a connect without a token is authenticated from. */
export interface ConnectRequest {
  readonly session: Session;
  /** The client's opaque `data`. */
  readonly data: unknown;
  readonly client: { readonly name?: string | undefined; readonly version?: string | undefined } | undefined;
  readonly app: { readonly version: string; readonly build?: string | undefined } | undefined;
}

/** Authenticates a connect without a token (see `ConnectOptions.authenticate`). */
export type ConnectAuthenticator = (
  request: ConnectRequest,
) => Promise<{ readonly principal: Principal; readonly data?: unknown }>;

/** The close code of a refused `connect`: retryable when the refusal is (a backend that did not answer). */
function closeForRefusal(code: string): CloseCodeName {
  switch (code) {
    case 'token_expired':
      return 'TOKEN_EXPIRED';
    case 'revoked':
      return 'REVOKED';
    case 'too_many_connections':
      return 'TOO_MANY_CONNECTIONS';
    case 'unavailable':
    case 'timeout':
      return 'INTERNAL';
    default:
      return 'UNAUTHORIZED';
  }
}

/**
 * Gives a connected session its refreshed principal (a `refresh` command's
 * token, or the refresh proxy's answer) and lets each feature end what the
 * new principal no longer allows. Returns the channels unsubscribed.
 */
export function replacePrincipal(
  core: Pick<ServerCore, 'sessionEvents'>,
  session: Session,
  principal: Principal,
): string[] {
  session.principal = principal;
  const unsubscribed: string[] = [];
  for (const listener of core.sessionEvents.refreshed) {
    const ended = listener(session);
    if (ended) unsubscribed.push(...ended);
  }
  return unsubscribed;
}

/** Registers `connect` and `refresh`. */
export function registerConnectCommands(core: ServerCore, options: ConnectOptions): void {
  const range = options.protocol;
  if (
    range &&
    !(
      Number.isInteger(range.min) &&
      Number.isInteger(range.max) &&
      range.min >= MIN_PROTOCOL_VERSION &&
      range.max <= PROTOCOL_VERSION &&
      range.min <= range.max
    )
  ) {
    throw new TypeError(
      `protocolRange must lie within ${MIN_PROTOCOL_VERSION}..${PROTOCOL_VERSION} with min <= max (got ${range.min}..${range.max}).`,
    );
  }
  // The features a connect reply lists, one shared (frozen) array per protocol version.
  const features = new Map<number, readonly string[]>();
  const featuresOf = (protocol: number): readonly string[] => {
    let list = features.get(protocol);
    if (list === undefined) {
      list = Object.freeze([...options.features, ...protocolFeatures(protocol)]);
      features.set(protocol, list);
    }
    return list;
  };
  core.command('connect', async (session, cmd) => {
    const min = options.protocol?.min ?? MIN_PROTOCOL_VERSION;
    const max = options.protocol?.max ?? PROTOCOL_VERSION;
    const protocol = negotiateProtocol(cmd.protocol, cmd.minProtocol, min, max);
    if (protocol === undefined) {
      session.fail(
        new SynclineError(
          'unsupported_protocol',
          `Protocol ${cmd.protocol} is not supported; this server speaks ${min}..${max}.`,
          { details: { min, max } },
        ),
        'UNSUPPORTED_PROTOCOL',
        cmd.id,
      );
      return REPLIED;
    }
    const authenticate = options.authenticate;
    if (cmd.token === undefined && authenticate === undefined) {
      session.fail(new SynclineError('unauthorized', 'A token is required.'), 'UNAUTHORIZED', cmd.id);
      return REPLIED;
    }
    let principal: Principal;
    let backendData: unknown;
    try {
      if (cmd.token !== undefined) principal = await core.verifier.verify(cmd.token);
      else {
        const r = await (authenticate as ConnectAuthenticator)({
          session,
          data: cmd.data,
          client: cmd.client,
          app: cmd.app,
        });
        principal = r.principal;
        backendData = r.data;
      }
      options.admit(principal, session);
    } catch (err) {
      const e = toSynclineError(err);
      session.fail(e, closeForRefusal(e.code), cmd.id);
      return REPLIED;
    }
    if (session.closed) return REPLIED;
    session.principal = principal;
    session.protocol = protocol;
    session.app =
      cmd.app?.build === undefined
        ? cmd.app && { version: cmd.app.version }
        : { version: cmd.app.version, build: cmd.app.build };
    if (core.hooks.onConnect) {
      try {
        await core.hooks.onConnect(connectionInfo(session));
      } catch (err) {
        const e = err instanceof SynclineError ? err : new SynclineError('forbidden', toSynclineError(err).message);
        session.fail(e, 'UNAUTHORIZED', cmd.id);
        return REPLIED;
      }
    }
    if (session.closed) return REPLIED;
    // From here the node's deadline sweep closes the session with
    // TOKEN_EXPIRED once its current token expires unrefreshed.
    session.state = 'connected';
    const result: {
      -readonly [K in keyof ConnectResult]: ConnectResult[K];
    } = {
      session: session.id,
      user: principal.user,
      protocol,
      pingIntervalMs: options.pingIntervalMs,
      maxFrameBytes: session.maxFrameBytes,
      features: featuresOf(protocol),
      node: core.nodeId,
    };
    if (principal.expiresAt !== undefined) result.expiresAt = principal.expiresAt;
    if (backendData !== undefined) result.data = backendData;
    const update = options.appUpdate?.(session);
    const status = options.status?.();
    if (status?.degraded === true && protocol >= PROTOCOL_FEATURES.status) result.status = status;
    if (update && protocol >= 2) result.update = update;
    return result;
  });

  core.command('refresh', async (session, cmd) => {
    const principal = await core.verifier.verify(cmd.token);
    if (principal.user !== session.user) {
      throw new SynclineError('unauthorized', 'A refreshed token must be for the same user.');
    }
    options.admit(principal, session);
    if (session.closed) return REPLIED;
    const unsubscribed = replacePrincipal(core, session, principal);
    const result: RefreshResult =
      principal.expiresAt === undefined ? { unsubscribed } : { unsubscribed, expiresAt: principal.expiresAt };
    return result;
  });
}
