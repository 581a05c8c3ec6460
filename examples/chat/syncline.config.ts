/**
 * Server side of the chat: which names are documents (with the mutators the
 * browser also runs) and which are presence channels. Started by
 * `npm start` at the repository root:
 *   syncline start --dev --config examples/chat/syncline.config.ts --static examples/chat/dist
 * Without `auth` here, dev mode signs tokens with a dev secret and serves
 * `POST /dev/token` for the sign-in screen; production (no `--dev`) refuses
 * to start without `auth`.
 */
import { defineConfig } from '@syncline/server';
import { EMPTY_ROOM, INITIAL_LOBBY, lobbyMutators, roomMutators } from './src/shared/model.js';

export default defineConfig({
  // The app version this server expects; the browser announces its own
  // (`app.version` in src/app.tsx). Raise `recommendedClientVersion` or
  // `minClientVersion` here (or announce at runtime) to show the update banner.
  app: { version: '0.1.0' },
  docs: {
    lobby: { mutators: lobbyMutators, initialState: INITIAL_LOBBY },
    room: { mutators: roomMutators, initialState: EMPTY_ROOM },
  },
  namespaces: {
    online: { presence: true },
    here: { presence: true },
    // Announcements a backend publishes through the HTTP API (the curl
    // examples of docs/http-api.md use it); browsers may read, not publish.
    news: { history: { size: 100, ttlMs: 86_400_000 }, allowPublish: 'none' },
  },
});
