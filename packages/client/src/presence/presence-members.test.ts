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

  it('a fresh list on a live watch replaces the set with one event per real change and drops older diffs', () => {
    const m = new PresenceMembers();
    m.applyState({
      seq: 10,
      entries: [entry('alice', 'a1', { x: 1 }), entry('bob', 'b1', 'idle'), entry('dana', 'd1', null)],
    });
    m.applyDiff({ seq: 12, action: 'join', entry: entry('dana', 'd2', 'phone', 2) });
    const events: string[] = [];
    let changes = 0;
    let syncs = 0;
    m.on('join', (e) => events.push(`join:${e.member.user}`));
    m.on('update', (e) => events.push(`update:${e.member.user}:${e.entry.clientId}`));
    m.on('leave', (e) => events.push(`leave:${e.member.user}`));
    m.subscribe(() => changes++);
    m.on('sync', () => syncs++);
    // No resync() first: the server pushed a fresh list on the live watch (diffs
    // 13..20 never reached this node). Alice is unchanged (new objects, same
    // content), Bob left, Carol joined, Dana's phone changed state, Erin joined.
    m.applyState({
      seq: 20,
      entries: [
        entry('alice', 'a1', { x: 1 }),
        entry('carol', 'c1', 'new', 5),
        entry('dana', 'd1', null),
        entry('dana', 'd2', 'tablet', 2),
        entry('erin', 'e1', null, 6),
      ],
    });
    expect(events.sort()).toEqual(['join:carol', 'join:erin', 'leave:bob', 'update:dana:d2']);
    expect(changes).toBe(1);
    expect(syncs).toBe(1);
    expect(m.synced).toBe(true);
    expect(m.current.map((x) => x.user)).toEqual(['alice', 'carol', 'dana', 'erin']);
    // Diffs the fresh list already holds (seq at or below 20) change nothing.
    events.length = 0;
    m.applyDiff({ seq: 15, action: 'join', entry: entry('carol', 'c1', 'new', 5) });
    m.applyDiff({ seq: 18, action: 'leave', entry: entry('erin', 'e1', null, 6) });
    m.applyDiff({ seq: 20, action: 'join', entry: entry('bob', 'b1', 'idle') });
    expect(events).toEqual([]);
    expect(changes).toBe(1);
    expect(m.current.map((x) => x.user)).toEqual(['alice', 'carol', 'dana', 'erin']);
    // A newer diff applies on top of the fresh list.
    m.applyDiff({ seq: 21, action: 'leave', entry: entry('carol', 'c1', 'new', 5) });
    expect(events).toEqual(['leave:carol']);
    expect(m.current.map((x) => x.user)).toEqual(['alice', 'dana', 'erin']);
  });

  it('a fresh list older than diffs already applied keeps them (no leave and join again)', () => {
    const m = new PresenceMembers();
    const events: string[] = [];
    m.on('join', (e) => events.push(`join:${e.member.user}`));
    m.on('leave', (e) => events.push(`leave:${e.member.user}`));
    m.applyState({ seq: 1, entries: [entry('bob', 'b1', null)] });
    m.applyDiff({ seq: 5, action: 'join', entry: entry('alice', 'a1', null) });
    // A list read before seq 5 (already without Bob, who left at 2) arrives late.
    m.applyState({ seq: 3, entries: [] });
    expect(m.current.map((x) => x.user)).toEqual(['alice']);
    m.applyDiff({ seq: 5, action: 'join', entry: entry('alice', 'a1', null) });
    expect(events).toEqual(['join:bob', 'join:alice', 'leave:bob']);
  });

  it('gathers a list sent in parts and applies it, with the diffs between its parts, on the last part', () => {
    const m = new PresenceMembers();
    const syncs: string[][] = [];
    m.on('sync', (members) => syncs.push(members.map((x) => x.user)));
    m.resync();
    m.applyState({ seq: 9, entries: [entry('alice', 'a1', null)], more: true, part: 0 });
    m.applyDiff({ seq: 8, action: 'join', entry: entry('old', 'o1', null) });
    m.applyDiff({ seq: 10, action: 'join', entry: entry('dana', 'd1', null) });
    m.applyState({ seq: 9, entries: [entry('bob', 'b1', null)], more: true, part: 1 });
    expect(m.synced).toBe(false);
    expect(m.current).toEqual([]);
    m.applyState({ seq: 9, entries: [entry('carol', 'c1', null)], part: 2 });
    expect(m.synced).toBe(true);
    expect(m.current.map((x) => x.user)).toEqual(['alice', 'bob', 'carol', 'dana']);
    expect(syncs).toEqual([['alice', 'bob', 'carol', 'dana']]);
  });

  it('keeps showing the set while a fresh list arrives in parts on a live watch, and restarts on a new part 0', () => {
    const m = new PresenceMembers();
    m.applyState({ seq: 1, entries: [entry('alice', 'a1', null)] });
    m.applyState({ seq: 4, entries: [entry('bob', 'b1', null)], more: true, part: 0 });
    // A newer list starts before the first finished: the first is dropped, its late parts too.
    m.applyState({ seq: 6, entries: [entry('carol', 'c1', null)], more: true, part: 0 });
    m.applyState({ seq: 4, entries: [entry('zed', 'z1', null)], part: 1 });
    m.applyDiff({ seq: 7, action: 'join', entry: entry('erin', 'e1', null) });
    expect(m.current.map((x) => x.user)).toEqual(['alice']);
    m.applyState({ seq: 6, entries: [entry('dana', 'd1', null)], part: 1 });
    expect(m.current.map((x) => x.user)).toEqual(['carol', 'dana', 'erin']);
  });
});
