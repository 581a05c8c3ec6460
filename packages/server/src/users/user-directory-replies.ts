import type { ConnectionDetails, NameList } from './connection-details.js';

/** A connected user and their number of connections. */
export interface UserCount {
  readonly user: string;
  readonly connections: number;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isNameList(value: unknown): value is NameList {
  const v = value as Partial<NameList> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    isCount(v.count) &&
    Array.isArray(v.names) &&
    v.names.every((n) => typeof n === 'string')
  );
}

function isConnection(value: unknown): value is ConnectionDetails {
  const c = value as Partial<Record<keyof ConnectionDetails, unknown>> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.id === 'string' &&
    typeof c.user === 'string' &&
    typeof c.node === 'string' &&
    typeof c.transport === 'string' &&
    typeof c.codec === 'string' &&
    isCount(c.protocol) &&
    typeof c.ip === 'string' &&
    isCount(c.connectedAt) &&
    isNameList(c.channels) &&
    isNameList(c.presence) &&
    isNameList(c.docs)
  );
}

/**
 * Another node's page of users (`[[user, connections], …]`), at most `max`
 * of them; undefined when it is not one.
 */
export function parseUserCounts(reply: unknown, max: number): UserCount[] | undefined {
  if (!Array.isArray(reply) || reply.length > max) return undefined;
  const out: UserCount[] = [];
  for (const item of reply) {
    if (!Array.isArray(item) || typeof item[0] !== 'string' || !isCount(item[1])) return undefined;
    out.push({ user: item[0], connections: item[1] });
  }
  return out;
}

/** Another node's connections of a user (at most `max` listed); undefined when the reply is not one. */
export function parseConnections(
  reply: unknown,
  max: number,
): { total: number; connections: ConnectionDetails[] } | undefined {
  const r = reply as { total?: unknown; connections?: unknown } | null;
  if (typeof r !== 'object' || r === null || !isCount(r.total) || !Array.isArray(r.connections)) return undefined;
  if (r.connections.length > max || !r.connections.every(isConnection)) return undefined;
  return { total: r.total, connections: r.connections };
}
