import type { ReactNode } from 'react';
import { colorOf, initialsOf } from '../shared/identity.ts';

/** A user's initials on their color; `online` adds a green dot. */
export function Avatar({ user, small, online }: { user: string; small?: boolean; online?: boolean }): ReactNode {
  return (
    <span
      className={small ? 'avatar small' : 'avatar'}
      style={{ background: colorOf(user) }}
      title={user}
      data-testid="avatar"
      data-user={user}
    >
      <span className="initials">{initialsOf(user)}</span>
      {online ? <span className="presence-dot" /> : null}
    </span>
  );
}
