/** A channel's namespace options as `GET /v1/channels/{channel}` shows them. */
export interface NamespaceInfo {
  readonly name: string;
  readonly history: { readonly size: number; readonly ttlMs: number };
  readonly allowPublish: string;
  readonly recover: boolean;
  readonly recoverWindowMs?: number;
  readonly presence: boolean;
  readonly presenceMaxMembers?: number;
  readonly dataSchema: boolean;
  readonly presenceStateSchema: boolean;
  readonly publicationWebhooks: number;
}

/** `GET /v1/channels/{channel}`. */
export interface ChannelDetail {
  readonly channel: string;
  readonly namespace: NamespaceInfo;
  readonly epoch: string;
  readonly offset: number;
  readonly minOffset: number;
  readonly subscribers: number;
  readonly present: number;
}

/** One retained or live publication. */
export interface PublicationRow {
  readonly offset: number;
  readonly data: unknown;
  readonly ts?: number;
}

/** The API path of a channel (`/v1/channels/chat%3Alobby`) and what follows it. */
export function channelPath(channel: string, rest = ''): string {
  return `/v1/channels/${encodeURIComponent(channel)}${rest}`;
}

/** A time as `HH:MM:SS` (today) or a full local date and time. */
export function formatTime(ts: number | undefined): string {
  if (ts === undefined) return '–';
  const d = new Date(ts);
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
}
