/** Operations a capability can allow. */
export const OPERATIONS = ['subscribe', 'publish', 'history', 'presence', 'read', 'mutate'] as const;

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

/** Compiles a capability list. */
export function compileCapabilities(caps: readonly Capability[]): CompiledCapabilities {
  // Tokens of one app mostly carry the same capabilities: connections share
  // one compiled form (memory per connection).
  const key = JSON.stringify(caps);
  let out = compiledCache.get(key);
  if (!out) {
    out = compile(caps);
    if (compiledCache.size >= COMPILED_CACHE_SIZE) compiledCache.clear();
    compiledCache.set(key, out);
  }
  return out;
}

/** Distinct capability lists kept compiled. */
const COMPILED_CACHE_SIZE = 1000;
const compiledCache = new Map<string, CompiledCapabilities>();

function compile(caps: readonly Capability[]): CompiledCapabilities {
  const compiled = caps.map((c) => ({
    re: globToRegExp(c.match),
    all: c.allow.includes('*'),
    ops: new Set<string>(c.allow),
  }));
  return {
    allows(op, name) {
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
