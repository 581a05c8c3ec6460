import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Development credentials kept in the data folder. */
export interface DevCredentials {
  /** HS256 secret that signs dev tokens. */
  readonly secret: string;
  /** API key of the HTTP API. */
  readonly apiKey: string;
  /** Key of the operator console at `/admin` (added to older files on first use). */
  readonly adminKey: string;
}

/** File name of the dev credentials inside the data folder. */
export const DEV_CREDENTIALS_FILE = 'dev-credentials.json';

/** Reads the dev credentials of a data folder; undefined when there are none (nothing is created). */
export function readDevCredentials(dataDir: string): DevCredentials | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(dataDir, DEV_CREDENTIALS_FILE), 'utf8')) as Partial<DevCredentials>;
    if (typeof parsed.secret === 'string' && typeof parsed.apiKey === 'string') {
      const adminKey = typeof parsed.adminKey === 'string' ? parsed.adminKey : '';
      return { secret: parsed.secret, apiKey: parsed.apiKey, adminKey };
    }
  } catch {
    // Missing or unreadable.
  }
  return undefined;
}

/**
 * Reads the dev credentials of a data folder, creating them (random, file
 * mode 0600) on first use; a file from before the console gets its admin key.
 */
export function loadDevCredentials(dataDir: string): DevCredentials {
  const existing = readDevCredentials(dataDir);
  if (existing && existing.adminKey !== '') return existing;
  mkdirSync(dataDir, { recursive: true });
  const creds: DevCredentials = {
    secret: existing?.secret ?? randomBytes(32).toString('base64url'),
    apiKey: existing?.apiKey ?? `sk_dev_${randomBytes(24).toString('base64url')}`,
    adminKey: `ak_dev_${randomBytes(24).toString('base64url')}`,
  };
  writeFileSync(join(dataDir, DEV_CREDENTIALS_FILE), `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  return creds;
}
