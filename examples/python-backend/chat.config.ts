/**
 * The chat example (examples/chat) on the Python backend: syncline.config.json
 * (auth, namespaces, the proxy to backend.py, the webhook) plus the chat's
 * documents, whose mutators are code that a JSON config cannot hold.
 * `npm run start:python` (start.mjs) starts Syncline with it:
 *   syncline start --dev --config examples/python-backend/chat.config.ts --static examples/chat/dist-python
 * `PYTHON_BACKEND_URL` moves the backend from the JSON's http://127.0.0.1:8000
 * (the tests run it on a free port).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, parseConfigFile } from '@syncline/server';
import chat from '../chat/syncline.config.js';

const file = join(import.meta.dirname, 'syncline.config.json');
const text = readFileSync(file, 'utf8');
const url = process.env.PYTHON_BACKEND_URL;
const backend = parseConfigFile(url ? text.replaceAll('http://127.0.0.1:8000', url) : text, file);

export default defineConfig({
  ...chat,
  ...backend,
  namespaces: { ...chat.namespaces, ...backend.namespaces },
});
