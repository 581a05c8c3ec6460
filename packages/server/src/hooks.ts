import type { Principal } from './auth/token-verifier.js';

/** Facts about a connection passed to hooks. */
export interface ConnectionInfo {
  readonly session: string;
  readonly user: string;
  readonly principal: Principal;
  readonly transport: string;
  readonly app: { readonly version: string; readonly build?: string } | undefined;
}

/**
 * Server hooks. An `onX` hook runs before the action and may reject it by
 * throwing (a `SynclineError` keeps its code; anything else becomes
 * `forbidden` with its message). An `afterX` hook observes; what it throws is
 * logged and ignored.
 */
export interface ServerHooks {
  onConnect?(ctx: ConnectionInfo): void | Promise<void>;
  afterConnect?(ctx: ConnectionInfo): void;
  onSubscribe?(ctx: ConnectionInfo & { readonly channel: string }): void | Promise<void>;
  onPublish?(ctx: ConnectionInfo & { readonly channel: string; readonly data: unknown }): void | Promise<void>;
  afterPublish?(ctx: {
    readonly user: string | undefined;
    readonly channel: string;
    readonly data: unknown;
    readonly offset: number;
  }): void;
  afterDisconnect?(ctx: {
    readonly session: string;
    readonly user: string;
    readonly code: number;
    readonly reason: string;
  }): void;
}
