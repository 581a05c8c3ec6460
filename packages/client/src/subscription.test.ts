import { describe, expect, it } from 'vitest';
import { Subscription } from './subscription.js';

const host = { sendSubscribe: () => undefined, sendUnsubscribe: () => undefined };

function subscribed(since: { epoch: string; offset: number }) {
  const recovered: boolean[] = [];
  const offsets: number[] = [];
  const sub = new Subscription('chat:a', host, {
    since,
    onRecovered: (ok) => recovered.push(ok),
    onPublication: (p) => offsets.push(p.offset),
  });
  return { sub, recovered, offsets };
}

describe('Subscription recovery verdict', () => {
  it('a reply whose top is below its own position in the same epoch is not a recovery', () => {
    const { sub, recovered, offsets } = subscribed({ epoch: 'e1', offset: 10 });
    // The broker went back in time: it says "recovered" but its top is 7 in the same epoch.
    sub.handleSubscribed({ epoch: 'e1', offset: 7, recovered: true, publications: [] }, true);
    expect(recovered).toEqual([false]);
    expect(offsets).toEqual([]);
    expect(sub.position).toEqual({ epoch: 'e1', offset: 7 });
  });

  it('a reply at or past its own position in the same epoch recovers as before', () => {
    const { sub, recovered, offsets } = subscribed({ epoch: 'e1', offset: 10 });
    const pub = (offset: number) => ({ offset, data: offset, ts: 1 });
    sub.handleSubscribed({ epoch: 'e1', offset: 12, recovered: true, publications: [pub(11), pub(12)] }, true);
    expect({ recovered, offsets, position: sub.position }).toEqual({
      recovered: [true],
      offsets: [11, 12],
      position: { epoch: 'e1', offset: 12 },
    });
  });
});
