import { MAX_NAME_LENGTH } from '../names.js';
import type { ClientCommand } from './commands.js';

/**
 * Compiled checks of the commands a busy connection sends most (`publish`,
 * `subscribe` without recovery, `unsubscribe`, `ping`, `pong`), for
 * `parseCommand`: straight-line tests of the fields instead of a walk of the
 * generic schema. Each returns the command exactly as the schema would (only
 * its known fields), or `undefined` whenever anything is not plainly valid
 * (an unknown field, a missing or malformed one): the schema then decides
 * and words the error. So they can only accept what the schema accepts.
 */

const isRequestId = (id: unknown): id is number => typeof id === 'number' && Number.isSafeInteger(id) && id >= 1;

const isName = (name: unknown): name is string =>
  typeof name === 'string' && name.length >= 3 && name.length <= MAX_NAME_LENGTH;

/** Number of own enumerable keys, stopping past `max`. */
function keyCountAtMost(rec: object, max: number): boolean {
  let n = 0;
  for (const _ in rec) if (++n > max) return false;
  return true;
}

function publish(rec: Record<string, unknown>): ClientCommand | undefined {
  const { id, channel, key } = rec;
  if (!isRequestId(id) || !isName(channel) || !('data' in rec)) return undefined;
  if (key === undefined) {
    if (!keyCountAtMost(rec, 4)) return undefined;
    return { type: 'publish', id, channel, data: rec.data };
  }
  if (typeof key !== 'string' || key.length < 1 || key.length > 128 || !keyCountAtMost(rec, 5)) return undefined;
  return { type: 'publish', id, channel, data: rec.data, key };
}

function subscribe(rec: Record<string, unknown>): ClientCommand | undefined {
  const { id, channel } = rec;
  if (!isRequestId(id) || !isName(channel) || !keyCountAtMost(rec, 3)) return undefined;
  return { type: 'subscribe', id, channel };
}

function unsubscribe(rec: Record<string, unknown>): ClientCommand | undefined {
  const { id, channel } = rec;
  if (!isRequestId(id) || !isName(channel) || !keyCountAtMost(rec, 3)) return undefined;
  return { type: 'unsubscribe', id, channel };
}

const PING: ClientCommand = Object.freeze({ type: 'ping' });
const PONG: ClientCommand = Object.freeze({ type: 'pong' });

/**
 * The command `rec` is when it is a plainly valid hot command (see above),
 * else `undefined`. `rec` is a decoded object whose `type` is `type`.
 */
export function parseHotCommand(type: string, rec: Record<string, unknown>): ClientCommand | undefined {
  switch (type) {
    case 'publish':
      return publish(rec);
    case 'subscribe':
      return subscribe(rec);
    case 'unsubscribe':
      return unsubscribe(rec);
    case 'ping':
      return keyCountAtMost(rec, 1) ? PING : undefined;
    case 'pong':
      return keyCountAtMost(rec, 1) ? PONG : undefined;
    default:
      return undefined;
  }
}
