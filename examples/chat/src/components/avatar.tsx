import type { ReactNode } from 'react';

const COLORS = [
  '#6366f1',
  '#ec4899',
  '#f59e0b',
  '#10b981',
  '#06b6d4',
  '#8b5cf6',
  '#ef4444',
  '#14b8a6',
  '#3b82f6',
  '#d946ef',
];

/** A stable color per user name. */
export function colorOf(user: string): string {
  // FNV-1a: small inputs still spread over the palette.
  let h = 0x811c9dc5;
  for (const ch of user.toLowerCase()) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 0x01000193) >>> 0;
  return COLORS[h % COLORS.length] as string;
}

function initials(user: string): string {
  const parts = user
    .trim()
    .split(/[\s._-]+/)
    .filter(Boolean);
  const first = parts[0]?.[0] ?? '?';
  const second = parts.length > 1 ? (parts[1]?.[0] ?? '') : (parts[0]?.[1] ?? '');
  return (first + second).toUpperCase();
}

/** A user's initials on their color; `online` adds a green dot. */
export function Avatar({ user, small, online }: { user: string; small?: boolean; online?: boolean }): ReactNode {
  return (
    <span className={small ? 'avatar small' : 'avatar'} style={{ background: colorOf(user) }} title={user}>
      {initials(user)}
      {online ? <span className="presence-dot" /> : null}
    </span>
  );
}
