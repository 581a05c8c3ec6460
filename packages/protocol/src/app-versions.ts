/**
 * What a client should do about its app version:
 * - `none`: it is current (or the server has no opinion);
 * - `available`: a newer version exists; keep working, offer a reload;
 * - `required`: this version is too old; reads keep working, mutations and
 *   publishes are refused with `client_outdated` until the app reloads.
 */
export type UpdateStatus = 'none' | 'available' | 'required';

/** The server's verdict on a client's app version (connect reply `update`, `update` push). */
export interface AppUpdateInfo {
  readonly status: UpdateStatus;
  /** The server's app version: what a reload is expected to bring. */
  readonly version?: string;
  /** Oldest client app version the server accepts for writes. */
  readonly minClientVersion?: string;
  /** Client app versions below this one are offered an update. */
  readonly recommendedClientVersion?: string;
  /** Text for the user, from the server's configuration. */
  readonly message?: string;
}

/** Server push (protocol 2+): the verdict on this connection's app version changed. */
export interface UpdateMessage {
  readonly type: 'update';
  readonly update: AppUpdateInfo;
}

/** The app version settings of a server (`ServerOptions.app`). */
export interface AppVersionConfig {
  /** The server's (and the app bundle's) current version, dotted numbers: `2.4.0`. */
  readonly version: string;
  /** Clients announcing a lower version get `required`. */
  readonly minClientVersion?: string;
  /** Clients announcing a lower version (but not below the minimum) get `available`. */
  readonly recommendedClientVersion?: string;
  /** Shown to users with `available` or `required`. */
  readonly message?: string;
}

const VERSION_RE = /^v?\d+(\.\d+)*(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** True when `v` is a dotted numeric version (`1`, `2.4`, `2.4.1`, `v3.0.0-beta.2`, `1.0.0+abc`). */
export function isAppVersion(v: string): boolean {
  return VERSION_RE.test(v);
}

function parts(v: string): { core: number[]; pre: string[] | undefined } | undefined {
  if (!isAppVersion(v)) return undefined;
  const noBuild = (v.startsWith('v') ? v.slice(1) : v).split('+')[0] as string;
  const dash = noBuild.indexOf('-');
  const core = (dash < 0 ? noBuild : noBuild.slice(0, dash)).split('.').map(Number);
  return { core, pre: dash < 0 ? undefined : noBuild.slice(dash + 1).split('.') };
}

function compareIdent(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) return Math.sign(Number(a) - Number(b));
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Compares two app versions the semver way on dotted numbers (missing parts
 * count as 0, so `2` = `2.0.0`; a pre-release `2.0.0-rc.1` sorts before
 * `2.0.0`; build metadata after `+` is ignored). A version that does not
 * parse sorts before every valid one. Returns -1, 0 or 1.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : 0;
  const n = Math.max(pa.core.length, pb.core.length);
  for (let i = 0; i < n; i++) {
    const d = (pa.core[i] ?? 0) - (pb.core[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (!pa.pre || !pb.pre) return pa.pre ? -1 : pb.pre ? 1 : 0;
  const m = Math.max(pa.pre.length, pb.pre.length);
  for (let i = 0; i < m; i++) {
    const x = pa.pre[i];
    const y = pb.pre[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const c = compareIdent(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * The verdict for a client that announced `clientVersion` (undefined: it
 * announced none, and gets `none`: the server cannot judge it). A version
 * that does not parse counts as older than any minimum.
 */
export function updateStatusFor(
  clientVersion: string | undefined,
  config: AppVersionConfig | undefined,
): AppUpdateInfo {
  if (!config) return { status: 'none' };
  let status: UpdateStatus = 'none';
  if (clientVersion !== undefined) {
    if (config.minClientVersion !== undefined && compareVersions(clientVersion, config.minClientVersion) < 0) {
      status = 'required';
    } else if (
      config.recommendedClientVersion !== undefined &&
      compareVersions(clientVersion, config.recommendedClientVersion) < 0
    ) {
      status = 'available';
    }
  }
  const info: { -readonly [K in keyof AppUpdateInfo]: AppUpdateInfo[K] } = { status, version: config.version };
  if (config.minClientVersion !== undefined) info.minClientVersion = config.minClientVersion;
  if (config.recommendedClientVersion !== undefined) info.recommendedClientVersion = config.recommendedClientVersion;
  if (config.message !== undefined && status !== 'none') info.message = config.message;
  return info;
}

/** Throws a `TypeError` naming the field when an app version config is malformed. */
export function checkAppVersionConfig(config: AppVersionConfig): void {
  for (const key of ['version', 'minClientVersion', 'recommendedClientVersion'] as const) {
    const v = config[key];
    if (v !== undefined && (typeof v !== 'string' || !isAppVersion(v))) {
      throw new TypeError(`app.${key} must be a dotted numeric version like "2.4.0" (got ${JSON.stringify(v)}).`);
    }
  }
  if (config.message !== undefined && (typeof config.message !== 'string' || config.message.length > 1000)) {
    throw new TypeError('app.message must be a string of at most 1000 characters.');
  }
}
