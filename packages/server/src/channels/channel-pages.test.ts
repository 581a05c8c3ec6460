import { describe, expect, it } from 'vitest';
import { historyPage, pageChannels } from './channel-pages.js';

describe('channel list pages', () => {
  const subs = new Map([
    ['chat:b', 2],
    ['chat:a', 1],
    ['news:x', 4],
  ]);
  const present = new Map([
    ['chat:a', 3],
    ['here:r', 1],
  ]);

  it('merges both counts, sorts by name and pages after a cursor', () => {
    expect(pageChannels(subs, present, { limit: 2 })).toEqual({
      channels: [
        { channel: 'chat:a', subscribers: 1, present: 3 },
        { channel: 'chat:b', subscribers: 2, present: 0 },
      ],
      next: 'chat:b',
    });
    expect(pageChannels(subs, present, { after: 'chat:b', limit: 2 })).toEqual({
      channels: [
        { channel: 'here:r', subscribers: 0, present: 1 },
        { channel: 'news:x', subscribers: 4, present: 0 },
      ],
    });
    expect(pageChannels(subs, present, { prefix: 'chat:', after: 'chat:a', limit: 5 })).toEqual({
      channels: [{ channel: 'chat:b', subscribers: 2, present: 0 }],
    });
    expect(pageChannels(subs, present, { after: 'zzz', limit: 5 })).toEqual({ channels: [] });
  });
});

describe('history pages', () => {
  const read = (offsets: number[]) => ({
    epoch: 'e',
    offset: 10,
    minOffset: 3,
    publications: offsets.map((offset) => ({ offset, data: offset, ts: 1 })),
  });

  it('points to newer publications with next and older retained ones with prev', () => {
    expect(historyPage('c', read([5, 6]))).toMatchObject({ next: 6, prev: 5 });
    expect(historyPage('c', read([3, 4]))).toMatchObject({ next: 4 });
    expect(historyPage('c', read([3, 4])).prev).toBeUndefined();
    expect(historyPage('c', read([9, 10])).next).toBeUndefined();
    const empty = historyPage('c', read([]));
    expect([empty.next, empty.prev]).toEqual([undefined, undefined]);
  });
});
