// Writes packages/server/syncline.config.schema.json from the config file's definitions
// (packages/server/src/config-file.ts); run after changing them: `npm run config-schema`.
// A test fails while the committed file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { CONFIG_SCHEMA_FILE, configJsonSchema } from '../packages/server/dist/config-file.js';

writeFileSync(`packages/server/${CONFIG_SCHEMA_FILE}`, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
