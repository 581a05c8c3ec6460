import { describe, expect, it } from 'vitest';
import { itemOf, pageOf } from './pages.js';

describe('console locations', () => {
  it('names the page and the item of a path', () => {
    expect(pageOf('/admin')).toBe('overview');
    expect(pageOf('/admin/channels')).toBe('channels');
    expect(pageOf('/admin/nothing')).toBe('overview');
    expect(itemOf('/admin/channels')).toBeUndefined();
    expect(itemOf('/admin/channels/chat%3Alobby')).toBe('chat:lobby');
    expect(itemOf('/admin/users/a%2Fb%20c')).toBe('a/b c');
  });

  it('ignores an item that is not valid percent-encoding', () => {
    expect(itemOf('/admin/channels/%E0%A4%A')).toBeUndefined();
  });
});
