import { afterEach, describe, expect, it } from 'vitest';
import { requireService } from './services.js';

const saved = process.env.SYNCLINE_REQUIRE_SERVICES;

afterEach(() => {
  if (saved === undefined) delete process.env.SYNCLINE_REQUIRE_SERVICES;
  else process.env.SYNCLINE_REQUIRE_SERVICES = saved;
});

describe('requireService', () => {
  it('reports a missing service as unavailable when services are optional', async () => {
    delete process.env.SYNCLINE_REQUIRE_SERVICES;
    expect(await requireService('Nothing', 'redis://127.0.0.1:1', 6379)).toEqual({
      available: false,
      url: 'redis://127.0.0.1:1',
    });
  });

  it('fails when SYNCLINE_REQUIRE_SERVICES=1 and the service does not answer', async () => {
    process.env.SYNCLINE_REQUIRE_SERVICES = '1';
    await expect(requireService('Nothing', 'redis://127.0.0.1:1', 6379)).rejects.toThrow(/required/);
  });
});
