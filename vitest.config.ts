import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

/** Every test file (run over WebSocket). Root-level `include` would be merged into each project's, so it lives here. */
const ALL_TESTS = [
  'packages/*/src/**/*.test.ts',
  'test/**/*.test.ts',
  'test/**/*.test.tsx',
  'examples/chat/e2e/**/*.test.ts',
];
/** Integration suites that run once per transport (`SYNCLINE_TEST_TRANSPORT`) and codec (`SYNCLINE_TEST_CODEC`); see docs/transports.md. */
const PER_TRANSPORT = ['test/core-*.test.ts', 'test/docs-*.test.ts', 'test/presence-*.test.ts'];
/** Suites that speak raw WebSocket frames: they run in the websocket project only. */
const WEBSOCKET_ONLY = ['test/core-bad-input*.test.ts'];

const src = (p: string): string => fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@syncline/protocol': src('protocol'),
      '@syncline/server': src('server'),
      '@syncline/client': src('client'),
      '@syncline/testing': src('testing'),
      '@syncline/redis': src('redis'),
      '@syncline/postgres': src('postgres'),
      '@syncline/react': src('react'),
    },
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Every test once (WebSocket, JSON), the integration suites again over SSE and
    // long-polling, and all three again with MessagePack frames.
    projects: [
      { extends: true, test: { name: 'websocket', include: ALL_TESTS } },
      ...(['sse', 'longpoll'] as const).map((transport) => ({
        extends: true,
        test: {
          name: transport,
          include: PER_TRANSPORT,
          exclude: [...configDefaults.exclude, ...WEBSOCKET_ONLY],
          env: { SYNCLINE_TEST_TRANSPORT: transport },
        },
      })),
      ...(['websocket', 'sse', 'longpoll'] as const).map((transport) => ({
        extends: true,
        test: {
          name: `${transport}-msgpack`,
          include: PER_TRANSPORT,
          exclude: [...configDefaults.exclude, ...WEBSOCKET_ONLY],
          env: { SYNCLINE_TEST_TRANSPORT: transport, SYNCLINE_TEST_CODEC: 'msgpack' },
        },
      })),
    ],
  },
});
