// Post-build step. `syncline` runs through the committed bin file; keep the built CLI
// executable too, for running packages/server/dist/cli.js directly.
import { chmodSync, existsSync } from 'node:fs';

if (existsSync('packages/server/dist/cli.js')) chmodSync('packages/server/dist/cli.js', 0o755);
