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
