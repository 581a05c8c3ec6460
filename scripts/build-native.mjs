// Builds the server's native addon (packages/server/native: the memory-mapped
// append log) with the node-gyp that npm ships. The addon is optional: when
// it cannot be built (no compiler, no Node headers), the server writes its
// append log with write(2) instead, so a failed build is reported and the
// build goes on.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../packages/server/native', import.meta.url));
/** npm's own node-gyp: npm names it to the scripts it runs; otherwise found beside the npm running this Node. */
function nodeGyp() {
  const named = process.env.npm_config_node_gyp;
  if (named && existsSync(named)) return named;
  const npmCli = process.env.npm_execpath;
  const roots = [
    npmCli ? dirname(dirname(npmCli)) : undefined,
    join(dirname(process.execPath), '../lib/node_modules/npm'),
  ];
  for (const root of roots) {
    if (root === undefined) continue;
    try {
      return createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
    } catch {
      // next
    }
  }
  return undefined;
}

const gyp = nodeGyp();
if (gyp === undefined) {
  process.stdout.write('native addon: node-gyp not found; the append log will use write(2)\n');
  process.exit(0);
}
// Node's own headers when they are installed beside it (node-gyp would download them otherwise).
const prefix = dirname(dirname(process.execPath));
const nodedir =
  process.env.npm_config_nodedir || (existsSync(join(prefix, 'include/node/node_api.h')) ? prefix : undefined);
const args = [gyp, 'rebuild', '--directory', dir, '--loglevel', 'error'];
if (nodedir) args.push(`--nodedir=${nodedir}`);
const run = spawnSync(process.execPath, args, {
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
});
if (run.status !== 0) {
  process.stdout.write(`native addon: build failed; the append log will use write(2)\n${run.stderr.slice(-2000)}\n`);
  process.exit(0);
}
process.stdout.write('native addon: built\n');
