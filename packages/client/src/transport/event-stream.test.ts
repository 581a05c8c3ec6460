import { describe, expect, it } from 'vitest';
import { EventStreamParser } from './event-stream.js';
import { httpBaseUrl } from './http-common.js';

describe('EventStreamParser', () => {
  const text =
    'event: session\ndata: {"session":"a.b"}\n\n: comment\ndata: {"type":"ping"}\n\ndata: line1\ndata: line2\n\nevent: close\r\ndata: {"code":4010,"reason":"x"}\r\n\r\n';
  const expected = [
    { event: 'session', data: '{"session":"a.b"}' },
    { event: 'message', data: '{"type":"ping"}' },
    { event: 'message', data: 'line1\nline2' },
    { event: 'close', data: '{"code":4010,"reason":"x"}' },
  ];

  it('parses a whole body', () => {
    expect(new EventStreamParser().push(text)).toEqual(expected);
  });

  it('gives the same events whatever the chunk boundaries', () => {
    for (let size = 1; size <= 13; size++) {
      const p = new EventStreamParser();
      const got = [];
      for (let i = 0; i < text.length; i += size) got.push(...p.push(text.slice(i, i + size)));
      expect(got).toEqual(expected);
    }
  });
});

describe('httpBaseUrl', () => {
  it('maps WebSocket URLs and endpoint paths to the HTTP base', () => {
    expect(httpBaseUrl('http://h:1')).toBe('http://h:1');
    expect(httpBaseUrl('wss://h/app/connect/ws')).toBe('https://h/app');
    expect(httpBaseUrl('ws://h:2/')).toBe('http://h:2');
    expect(httpBaseUrl('https://h/app/')).toBe('https://h/app');
  });
});
