import type { PresenceEntry } from '@syncline/protocol';
import { describe, expect, it } from 'vitest';
import { PresenceMembers } from './presence-members.js';

function entry(user: string, clientId: string, state: unknown, t = 1): PresenceEntry {
  return { user, clientId, state, enteredAt: t, updatedAt: t };
}

describe('PresenceMembers', () => {
  it('buffers diffs that arrive before the list and drops those the list already holds', () => {
    const m = new PresenceMembers();
    m.resync();
    // seq 4 is already in the list below; seq 6 and 7 are newer.
    m.applyDiff({ seq: 7, action: 'update', entry: entry('bob', 'b1', { s: 2 }, 3) });
    m.applyDiff({ seq: 4, action: 'join', entry: entry('old', 'o1', null) });
    m.applyDiff({ seq: 6, action: 'join', entry: entry('carol', 'c1', { s: 1 }, 2) });
    expect(m.current).toEqual([]);
    m.applyState({ seq: 5, entries: [entry('alice', 'a1', null), entry('bob', 'b1', { s: 1 })] });
    expect(m.current.map((x) => x.user)).toEqual(['alice', 'bob', 'carol']);
    expect(m.get('bob')?.state).toEqual({ s: 2 });
    // A late duplicate is ignored.
    m.applyDiff({ seq: 6, action: 'leave', entry: entry('carol', 'c1', null) });
    expect(m.get('carol')).toBeDefined();
  });

  it('groups entries per user and reports member-level join/update/leave', () => {
    const m = new PresenceMembers();
    const events: string[] = [];
    m.on('join', (e) => events.push(`join:${e.member.user}`));
    m.on('update', (e) => events.push(`update:${e.member.user}`));
    m.on('leave', (e) => events.push(`leave:${e.member.user}`));
    m.applyState({ seq: 1, entries: [] });
    m.applyDiff({ seq: 2, action: 'join', entry: entry('dana', 'laptop', 'a') });
    m.applyDiff({ seq: 3, action: 'join', entry: entry('dana', 'phone', 'b', 2) });
    expect(m.current).toHaveLength(1);
    expect(m.get('dana')?.entries.map((e) => e.clientId)).toEqual(['laptop', 'phone']);
    expect(m.get('dana')?.state).toBe('b');
    m.applyDiff({ seq: 4, action: 'leave', entry: entry('dana', 'phone', 'b') });
    m.applyDiff({ seq: 5, action: 'leave', entry: entry('dana', 'laptop', 'a') });
    expect(events).toEqual(['join:dana', 'update:dana', 'update:dana', 'leave:dana']);
  });

  it('a resync that returns the same set emits no events', () => {
    const m = new PresenceMembers();
    m.applyState({ seq: 3, entries: [entry('alice', 'a1', { x: 1 })] });
    let changes = 0;
    m.subscribe(() => changes++);
    m.on('join', () => changes++);
    m.on('leave', () => changes++);
    m.resync();
    m.applyState({ seq: 1, entries: [entry('alice', 'a1', { x: 1 })] });
    expect(changes).toBe(0);
    expect(m.synced).toBe(true);
  });
});
