import { describe, expect, it } from 'vitest';
import { cacheControlFor, isReservedPath } from './static.js';

describe('cacheControlFor', () => {
  it('caches Vite hashed assets forever and revalidates everything else', () => {
    const forever = 'public, max-age=31536000, immutable';
    expect(cacheControlFor('/assets/index-DytcCyBF.js')).toBe(forever);
    expect(cacheControlFor('/assets/index-Bx8Z_g-Y.css')).toBe(forever);
    expect(cacheControlFor('/assets/vendor-react-DytcCyBF.js')).toBe(forever);
    expect(cacheControlFor('/index.html')).toBe('no-cache');
    expect(cacheControlFor('/assets/logo.svg')).toBe('no-cache');
    expect(cacheControlFor('/assets/my-component.js')).toBe('no-cache');
    expect(cacheControlFor('/app-DytcCyBF.js')).toBe('no-cache');
  });
});

describe('isReservedPath', () => {
  it('covers the node paths and what is under them, nothing else', () => {
    for (const p of ['/v1', '/v1/nope', '/connect/sse', '/metrics', '/healthz', '/readyz', '/dev/token']) {
      expect({ p, reserved: isReservedPath(p) }).toEqual({ p, reserved: true });
    }
    for (const p of ['/', '/v10', '/v1.html', '/developers', '/connection', '/rooms/v1']) {
      expect({ p, reserved: isReservedPath(p) }).toEqual({ p, reserved: false });
    }
  });
});
