// Bundles the browser client for the demo page (esbuild). `ws` is only for Node.
import { build } from 'esbuild';

await build({
  entryPoints: ['packages/client/src/index.ts'],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  outfile: 'examples/basic/public/syncline.js',
  external: ['ws'],
  sourcemap: true,
  logLevel: 'warning',
});

// npm links the CLI before the first build, so make sure it is executable.
const { chmodSync, existsSync } = await import('node:fs');
if (existsSync('packages/server/dist/cli.js')) chmodSync('packages/server/dist/cli.js', 0o755);
