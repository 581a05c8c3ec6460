import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type Capability, OPERATIONS, type Operation } from '../auth/capabilities.js';
import { signToken } from '../auth/sign.js';
import { loadDevCredentials } from './dev-credentials.js';
import { fail } from './exit.js';
import { parseDurationSec } from './parse-duration.js';

function parseAllow(spec: string): Capability {
  const [match, ops] = spec.split('=', 2) as [string, string | undefined];
  if (!match) fail(`bad --allow "${spec}"`);
  if (ops === undefined) return { match, allow: ['*'] };
  const allow = ops.split(',').map((o) => o.trim());
  for (const op of allow) {
    if (op !== '*' && !(OPERATIONS as readonly string[]).includes(op)) fail(`unknown operation "${op}" in --allow`);
  }
  return { match, allow: allow as (Operation | '*')[] };
}

/**
 * `syncline token`: prints a token signed with `--secret` (or `SYNCLINE_SECRET`),
 * else with the data folder's dev secret.
 */
export async function tokenCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string', default: './data' },
      secret: { type: 'string' },
      sub: { type: 'string' },
      allow: { type: 'string', multiple: true },
      ttl: { type: 'string', default: '1h' },
    },
  });
  if (!values.sub) fail('--sub is required');
  const ttlSec = parseDurationSec(values.ttl);
  if (ttlSec === undefined) fail(`bad --ttl "${values.ttl}"`);
  const caps = (values.allow ?? []).map(parseAllow);
  const secret = values.secret ?? process.env.SYNCLINE_SECRET ?? loadDevCredentials(resolve(values.data)).secret;
  if (secret === '') fail('the secret is empty');
  process.stdout.write(`${await signToken(secret, { sub: values.sub, caps, ttlSec })}\n`);
}
