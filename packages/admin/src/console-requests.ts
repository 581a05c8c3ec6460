import { getJson } from './api';

/** A document in the list (`GET /v1/docs`). */
export interface DocListItem {
  readonly doc: string;
  readonly version: number;
  readonly updatedAt: number;
}

/** A document's details (`GET /v1/docs/{name}`). */
export interface DocDetails {
  readonly doc: string;
  readonly version: number;
  readonly state: unknown;
  readonly schemaVersion: number;
  readonly clients: number;
}

/** One op of a document's log (`GET /v1/docs/{name}/ops`). */
export interface DocOp {
  readonly version: number;
  readonly ts: number;
  readonly userId?: string;
  readonly clientId?: string;
  readonly mutator?: string;
  readonly args?: unknown;
  readonly argsBytes?: number;
}

/** A document namespace of the node (`GET /admin/api/docs`). */
export interface DocNamespaceInfo {
  readonly namespace: string;
  readonly mutators: readonly string[];
  readonly schemaVersion: number;
}

/** The app version settings in force (`GET /v1/app`). */
export interface AppConfig {
  readonly version: string;
  readonly minClientVersion?: string;
  readonly recommendedClientVersion?: string;
  readonly message?: string;
}

/** A webhook delivery not made yet (`GET /v1/webhooks/deliveries`). */
export interface Delivery {
  readonly id: number;
  readonly url: string;
  readonly status: 'pending' | 'failed';
  readonly attempts: number;
  readonly createdAt: number;
  readonly nextAttemptAt: number;
  readonly lastError?: string;
  readonly event: { readonly id: string; readonly type: string; readonly time: string; readonly data: object };
}

/** The webhook outbox at a glance (`GET /admin/api/webhooks`). */
export interface WebhookSummary {
  readonly receivers: number;
  readonly pending: number;
  readonly failed: number;
  readonly oldestPendingAt: number | null;
}

/** The user id the console's mutations carry (`tx.userId`), so the op log names who ran them. */
export const CONSOLE_USER_ID = 'syncline-console';

/** A query string of the defined parameters. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The API path of a document. */
export function docApiPath(doc: string): string {
  return `/v1/docs/${encodeURIComponent(doc)}`;
}

/** The node's document namespaces. */
export async function docNamespaces(): Promise<readonly DocNamespaceInfo[]> {
  return (await getJson<{ namespaces: DocNamespaceInfo[] }>('/admin/api/docs')).namespaces;
}

/** A time as `2026-12-04 15:02:03` in the browser's zone. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
