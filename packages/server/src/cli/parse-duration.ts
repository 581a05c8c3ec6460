const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };

/** Parses `90`, `30s`, `15m`, `1h`, `7d` into seconds; undefined when malformed. */
export function parseDurationSec(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1);
  return Number.isFinite(n) && n > 0 ? Math.round(n) : undefined;
}
