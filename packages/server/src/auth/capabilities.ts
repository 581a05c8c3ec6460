/** Operations a capability can allow. */
export const OPERATIONS = ['subscribe', 'publish', 'history', 'presence', 'read', 'mutate', 'rpc'] as const;

/** One operation on a channel or document. */
export type Operation = (typeof OPERATIONS)[number];

/** A capability as carried in the token's `caps` claim. */
export interface Capability {
  /** Glob over channel/document names: `*` matches any run of characters, `?` one character. */
  readonly match: string;
  /** Operations allowed on matching names; `*` allows all. */
  readonly allow: readonly (Operation | '*')[];
}

/** Capabilities compiled for fast checks. */
export interface CompiledCapabilities {
  /** True when `op` is allowed on `name`. */
  allows(op: Operation, name: string): boolean;
}

const cache = new Map<string, RegExp>();

/** Compiles a glob into an anchored regular expression (cached). */
export function globToRegExp(glob: string): RegExp {
  let re = cache.get(glob);
  if (re) return re;
  let src = '^';
  for (const ch of glob) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  re = new RegExp(`${src}$`);
  if (cache.size > 10_000) cache.clear();
  cache.set(glob, re);
  return re;
}

/** A capability list and its compiled form, shared by every token that carries the same list. */
export interface SharedCapabilities {
  /** The list (frozen: it is shared between connections). */
  readonly capabilities: readonly Capability[];
  readonly can: CompiledCapabilities;
}

/**
 * The shared copy of a capability list and its compiled form. Tokens of one
 * app mostly carry the same capabilities: their connections hold one list
 * and one compiled form instead of one each (memory per connection).
 */
export function shareCapabilities(caps: readonly Capability[]): SharedCapabilities {
  const key = JSON.stringify(caps);
  let out = sharedCache.get(key);
  if (!out) {
    const frozen = Object.freeze(caps.map((c) => Object.freeze({ ...c, allow: Object.freeze([...c.allow]) })));
    out = { capabilities: frozen, can: compile(frozen) };
    if (sharedCache.size >= SHARED_CACHE_SIZE) sharedCache.clear();
    sharedCache.set(key, out);
  }
  return out;
}

/**
 * The shared capabilities of a token's `caps` claim (as `JSON.parse` made
 * it), or undefined when the claim is malformed (`parseCapabilities`). A
 * claim seen before, to the character, skips the validation: the result
 * depends on the claim's JSON text alone. Bounded like the shared lists;
 * long claims are validated every time.
 */
export function claimCapabilities(raw: unknown): SharedCapabilities | undefined {
  const key = raw === undefined ? '' : JSON.stringify(raw);
  const known = claimCache.get(key);
  if (known !== undefined) return known;
  const caps = parseCapabilities(raw);
  if (!caps) return undefined;
  const shared = shareCapabilities(caps);
  if (key.length <= CLAIM_CACHE_MAX_LENGTH) {
    if (claimCache.size >= SHARED_CACHE_SIZE) claimCache.clear();
    claimCache.set(key, shared);
  }
  return shared;
}

/** Compiles a capability list (the compiled form is shared, see `shareCapabilities`). */
export function compileCapabilities(caps: readonly Capability[]): CompiledCapabilities {
  return shareCapabilities(caps).can;
}

/** Distinct capability lists kept shared. */
const SHARED_CACHE_SIZE = 1000;
const sharedCache = new Map<string, SharedCapabilities>();
/** Shared capabilities by the JSON text of the claim they were validated from (`claimCapabilities`). */
const claimCache = new Map<string, SharedCapabilities>();
/** Longest claim text kept in `claimCache`, characters. */
const CLAIM_CACHE_MAX_LENGTH = 4096;

/**
 * Prefix of the server's internal namespaces (the operator console's
 * `syncline-admin`): no token or connect-proxy answer reaches them, whatever
 * its capabilities (`*` included); only capabilities the server compiles
 * itself with {@link internalCapabilities} do.
 */
export const INTERNAL_NAMESPACE_PREFIX = 'syncline-';

/** Capabilities granted by the server itself, which may reach its internal namespaces (never from a token). */
export function internalCapabilities(caps: readonly Capability[]): CompiledCapabilities {
  return compile(caps, true);
}

function compile(caps: readonly Capability[], internal = false): CompiledCapabilities {
  const compiled = caps.map((c) => ({
    re: globToRegExp(c.match),
    all: c.allow.includes('*'),
    ops: new Set<string>(c.allow),
  }));
  return {
    allows(op, name) {
      if (!internal && name.startsWith(INTERNAL_NAMESPACE_PREFIX)) return false;
      for (const c of compiled) {
        if ((c.all || c.ops.has(op)) && c.re.test(name)) return true;
      }
      return false;
    },
  };
}

/** Validates an unknown `caps` claim; returns undefined when malformed. */
export function parseCapabilities(raw: unknown): Capability[] | undefined {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > 256) return undefined;
  const out: Capability[] = [];
  for (const item of raw) {
    if (typeof item !== 'object' || item === null) return undefined;
    const { match, allow } = item as { match?: unknown; allow?: unknown };
    if (typeof match !== 'string' || match.length === 0 || match.length > 255) return undefined;
    if (!Array.isArray(allow)) return undefined;
    const ops: (Operation | '*')[] = [];
    for (const op of allow) {
      if (op !== '*' && !(OPERATIONS as readonly unknown[]).includes(op)) return undefined;
      ops.push(op as Operation | '*');
    }
    out.push({ match, allow: ops });
  }
  return out;
}
