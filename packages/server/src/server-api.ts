import type { Server } from 'node:http';
import type { AppVersionConfig, CloseCodeName } from '@syncline/protocol';
import type { ChannelsService } from './channels/register-channels.js';
import type { ServerCore } from './core.js';
import type { DocsApi } from './docs/index.js';
import type { HttpRouter } from './http/router.js';
import type { ServerMetrics } from './metrics/metrics.js';
import type { NodeDirectory } from './nodes/node-directory.js';
import type { DrainOptions } from './ops/drain.js';
import type { PresenceService } from './presence/register-presence.js';
import type { UserDirectoryService } from './users/user-directory-routes.js';
import type { AppAnnounceResult } from './versions/app-versions.js';
import type { ClientVersions } from './versions/client-versions.js';
import type { WebhookDeliveryService } from './webhooks/webhook-routes.js';

/** A running (or ready to run) Syncline server. */
export interface SynclineServer {
  /** Starts listening; resolves with the bound port. */
  listen(): Promise<{ port: number; url: string }>;
  /** Closes every connection and releases storage. */
  close(): Promise<void>;
  /** HTTP base URL, once listening (`http://host:port`). */
  readonly url: string;
  /** Bound port, once listening. */
  readonly port: number;
  /** The node's HTTP server (to mount under another app or read its address). */
  readonly httpServer: Server;
  /** The core, for feature modules and adapters. */
  readonly core: ServerCore;
  /** Routes of the HTTP API; add your own. */
  readonly router: HttpRouter;
  /** Publishes from the server (no publisher user); resolves with the offset. */
  publish(
    channel: string,
    data: unknown,
    options?: { key?: string },
  ): Promise<{ offset: number; epoch: string; duplicate: boolean }>;
  /** Closes every connection of a user. */
  disconnectUser(user: string, close?: CloseCodeName, reason?: string): number;
  /** Documents, server side: read and mutate (ordered, persisted and broadcast like a client's mutation). */
  readonly docs: DocsApi;
  /**
   * Revokes a user: refuses their tokens issued before `before` (default: the
   * start of the next second, i.e. every token issued so far) at connect and
   * refresh, persistently, and closes their connections holding such tokens
   * with `REVOKED`.
   */
  revokeUser(user: string, options?: { before?: number; reason?: string }): { before: number; disconnected: number };
  /** Lifts a user's revocation; returns whether there was one. */
  unrevokeUser(user: string): boolean;
  /** Sends a `message` push to every connection of a user; returns how many got it. */
  sendToUser(user: string, data: unknown): number;
  /** Presence sets of channels (server side). */
  readonly presence: PresenceService;
  /** Channel subscriptions on this node (server side). */
  readonly channels: ChannelsService;
  /** Webhook deliveries not made yet, and manual retries (as the HTTP API's `/v1/webhooks/…`). */
  readonly webhooks: WebhookDeliveryService;
  /** The live nodes of the cluster (this one alone without a broker), each as it describes itself now (`GET /v1/nodes`). */
  readonly nodes: Pick<NodeDirectory, 'list'>;
  /**
   * Connected users and their connections on every node, and closing one
   * connection wherever it is (`GET /v1/users`, `GET /v1/users/{user}/connections`,
   * `POST /v1/connections/{id}/disconnect`).
   */
  readonly userDirectory: UserDirectoryService;
  /** Number of connected sessions. */
  readonly connectionCount: number;
  /**
   * Drains the node: `/readyz` turns 503, new connections are refused with
   * `SHUTDOWN`, and every connection is closed with `SHUTDOWN` at a random
   * moment within `windowMs` (with a small reconnect hint), so clients move to
   * other nodes spread out and recover there. Resolves once all are closed;
   * call `close()` next.
   */
  drain(options?: DrainOptions): Promise<void>;
  /** True once `drain()` was called. */
  readonly draining: boolean;
  /** Prometheus metrics of this node (served at `/metrics`). */
  readonly metrics: ServerMetrics;
  /** The app version settings in force (`ServerOptions.app`, or the last announce). */
  readonly app: AppVersionConfig | undefined;
  /**
   * Announces new app version settings at runtime, on every node of the
   * cluster: connected clients are judged again and pushed `update` when
   * their verdict changed. Resolves with what changed on this node.
   */
  setAppVersion(config: AppVersionConfig): Promise<AppAnnounceResult>;
  /** Connected clients by app version on every node, each with the verdict of the settings in force (`GET /v1/app/clients`). */
  readonly clientVersions: Pick<ClientVersions, 'list'>;
}
