#!/usr/bin/env node
// The `syncline` command. This file is committed so that npm links the command
// at install time, before anything is built; it runs the built CLI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write(
    'syncline: the CLI is not built yet (packages/server/dist/cli.js is missing); run `npm run build` first.\n',
  );
  process.exit(1);
}
await import(cli.href);
