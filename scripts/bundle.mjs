// Post-build step. npm links the CLI before the first build, so make sure it is executable.
import { chmodSync, existsSync } from 'node:fs';

if (existsSync('packages/server/dist/cli.js')) chmodSync('packages/server/dist/cli.js', 0o755);
