import { parseArgs } from 'node:util';
import { type ApiTarget, callApi, plainTextKeyWarning, resolveApiTarget } from './api-client.js';
import { fail, refuse } from './exit.js';
import {
  CHANNELS_LIMIT,
  type CountLimit,
  DOC_TEXT_MAX_CHARS,
  HISTORY_LIMIT,
  PRESENCE_LIMIT,
} from './inspect-limits.js';
import { cell, isoTime, safeJson, table } from './text-format.js';

/** The flags every inspect command takes. */
const COMMON = {
  url: { type: 'string' },
  key: { type: 'string' },
  data: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

interface Parsed {
  readonly target: ApiTarget;
  readonly json: boolean;
  readonly positionals: string[];
  readonly values: Record<string, string | boolean | undefined>;
}

/** Parses an inspect command's arguments; `names` are its positional arguments. */
function parse(command: string, argv: string[], names: readonly string[], extra: Options = {}): Parsed {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON, ...extra }, allowPositionals: true });
  } catch (err) {
    fail((err as Error).message);
  }
  if (parsed.positionals.length !== names.length) {
    fail(`${command} takes ${names.length === 0 ? 'no arguments' : names.join(' ')}`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  let target: ApiTarget;
  try {
    target = resolveApiTarget(
      {
        url: values.url as string | undefined,
        key: values.key as string | undefined,
        data: values.data as string | undefined,
      },
      process.env,
    );
  } catch (err) {
    refuse((err as Error).message);
  }
  const warning = plainTextKeyWarning(target);
  if (warning) process.stderr.write(`syncline: ${warning}\n`);
  return { target, json: values.json === true, positionals: parsed.positionals, values };
}

/** Reads a count option within its bounds. */
function count(name: string, raw: unknown, limit: CountLimit): number {
  if (raw === undefined) return limit.default;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > limit.max)
    fail(`bad --${name} "${String(raw)}": expected 1 to ${limit.max}`);
  return n;
}

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

function seg(value: string): string {
  return encodeURIComponent(value);
}

interface ChannelRow {
  channel: string;
  subscribers: number;
  present: number;
}

/** `syncline channels`: channels with subscribers or presence. */
async function channels(argv: string[]): Promise<void> {
  const p = parse('channels', argv, [], { prefix: { type: 'string' }, limit: { type: 'string' } });
  const limit = count('limit', p.values.limit, CHANNELS_LIMIT);
  const query = new URLSearchParams({ limit: String(limit) });
  if (typeof p.values.prefix === 'string') query.set('prefix', p.values.prefix);
  const body = (await callApi(p.target, 'GET', `/v1/channels?${query}`)) as { channels: ChannelRow[] };
  if (p.json) return out(safeJson(body));
  if (body.channels.length === 0) return out('No channel has subscribers or presence.');
  out(
    table(
      ['CHANNEL', 'SUBSCRIBERS', 'PRESENT'],
      body.channels.map((c) => [cell(c.channel), String(c.subscribers), String(c.present)]),
    ),
  );
  if (body.channels.length === limit) out(`(first ${limit}; --limit shows more, up to ${CHANNELS_LIMIT.max})`);
}

interface HistoryBody {
  channel: string;
  epoch: string;
  offset: number;
  minOffset: number;
  publications: { offset: number; data: unknown; ts?: number; user?: string }[];
  next?: number;
}

/** `syncline history CHANNEL`: retained publications, oldest first. */
async function history(argv: string[]): Promise<void> {
  const p = parse('history', argv, ['CHANNEL'], { since: { type: 'string' }, limit: { type: 'string' } });
  const limit = count('limit', p.values.limit, HISTORY_LIMIT);
  const query = new URLSearchParams({ limit: String(limit) });
  if (typeof p.values.since === 'string') {
    if (!/^\d{1,15}$/.test(p.values.since)) fail(`bad --since "${p.values.since}": expected an offset`);
    query.set('since', p.values.since);
  }
  const channel = p.positionals[0] as string;
  const body = (await callApi(p.target, 'GET', `/v1/channels/${seg(channel)}/history?${query}`)) as HistoryBody;
  if (p.json) return out(safeJson(body));
  out(`${cell(body.channel)}: offset ${body.offset}, oldest retained ${body.minOffset}, epoch ${cell(body.epoch)}`);
  if (body.publications.length === 0) return out('No publications.');
  out(
    table(
      ['OFFSET', 'TIME', 'USER', 'DATA'],
      body.publications.map((m) => [String(m.offset), isoTime(m.ts), cell(m.user ?? '-'), cell(m.data)]),
    ),
  );
  if (body.next !== undefined) out(`(more after offset ${body.next}: --since ${body.next})`);
}

/** `syncline publish CHANNEL JSON`: publishes from the server. */
async function publish(argv: string[]): Promise<void> {
  const p = parse('publish', argv, ['CHANNEL', 'JSON'], { 'idempotency-key': { type: 'string' } });
  const [channel, text] = p.positionals as [string, string];
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    fail(`the data to publish is not JSON (${(err as Error).message}); quote it, e.g. '{"text":"hi"}'`);
  }
  const key = p.values['idempotency-key'];
  const body = (await callApi(p.target, 'POST', '/v1/publish', {
    channel,
    data,
    ...(typeof key === 'string' ? { key } : {}),
  })) as { channel: string; offset: number; epoch: string; duplicate: boolean };
  if (p.json) return out(safeJson(body));
  out(
    body.duplicate
      ? `Already published to ${cell(body.channel)} at offset ${body.offset} (same idempotency key); nothing new.`
      : `Published to ${cell(body.channel)} at offset ${body.offset} (epoch ${cell(body.epoch)}).`,
  );
}

interface PresenceBody {
  channel: string;
  seq: number;
  members: {
    user: string;
    info?: unknown;
    entries: { clientId: string; state?: unknown; enteredAt?: number; updatedAt?: number }[];
  }[];
}

/** `syncline presence CHANNEL`: who is present, one row per connection. */
async function presence(argv: string[]): Promise<void> {
  const p = parse('presence', argv, ['CHANNEL'], { limit: { type: 'string' } });
  const limit = count('limit', p.values.limit, PRESENCE_LIMIT);
  const channel = p.positionals[0] as string;
  const body = (await callApi(p.target, 'GET', `/v1/channels/${seg(channel)}/presence`)) as PresenceBody;
  const shown = body.members.slice(0, limit);
  if (p.json) return out(safeJson(body.members.length > limit ? { ...body, members: shown } : body));
  if (body.members.length === 0) return out(`Nobody is present in ${cell(body.channel)}.`);
  const rows = shown.flatMap((m) =>
    m.entries.map((e) => [cell(m.user), cell(e.clientId), isoTime(e.enteredAt), cell(e.state ?? null)]),
  );
  out(table(['USER', 'CLIENT', 'ENTERED', 'STATE'], rows));
  if (body.members.length > limit) out(`(${body.members.length - limit} more members; --limit shows more)`);
}

/** `syncline doc NAME`: a document's version and state. */
async function doc(argv: string[]): Promise<void> {
  const p = parse('doc', argv, ['NAME']);
  const name = p.positionals[0] as string;
  const body = (await callApi(p.target, 'GET', `/v1/docs/${seg(name)}`)) as {
    doc: string;
    version: number;
    state: unknown;
  };
  if (p.json) return out(safeJson(body));
  out(`${cell(body.doc)}: version ${body.version}`);
  const state = safeJson(body.state, 2);
  if (state.length <= DOC_TEXT_MAX_CHARS) return out(state);
  out(state.slice(0, DOC_TEXT_MAX_CHARS));
  out(`(cut at ${DOC_TEXT_MAX_CHARS} of ${state.length} characters; --json prints all of it)`);
}

/** `syncline revoke USER`: refuses the user's tokens issued so far (or lifts that with `--lift`). */
async function revoke(argv: string[]): Promise<void> {
  const p = parse('revoke', argv, ['USER'], { reason: { type: 'string' }, lift: { type: 'boolean', default: false } });
  const user = p.positionals[0] as string;
  const path = `/v1/users/${seg(user)}/revoke`;
  if (p.values.lift === true) {
    const body = (await callApi(p.target, 'DELETE', path)) as { user: string; lifted: boolean };
    if (p.json) return out(safeJson(body));
    return out(body.lifted ? `Lifted the revocation of ${cell(body.user)}.` : `${cell(body.user)} was not revoked.`);
  }
  const reason = p.values.reason;
  const body = (await callApi(p.target, 'POST', path, typeof reason === 'string' ? { reason } : {})) as {
    user: string;
    before: number;
    disconnected: number;
    nodes?: { answered: number; expected: number };
    partial?: boolean;
  };
  if (p.json) return out(safeJson(body));
  const missing =
    body.partial === true && body.nodes
      ? ` (${body.nodes.expected - body.nodes.answered} of ${body.nodes.expected} nodes did not answer in time)`
      : '';
  out(
    `Revoked ${cell(body.user)}: tokens issued before ${isoTime(body.before)} are refused; ` +
      `${body.disconnected} connection${body.disconnected === 1 ? '' : 's'} closed${missing}.`,
  );
}

/** The inspect commands by name; each calls the HTTP API of a running node. */
export const INSPECT_COMMANDS: Readonly<Record<string, (argv: string[]) => Promise<void>>> = {
  channels,
  history,
  publish,
  presence,
  doc,
  revoke,
};
