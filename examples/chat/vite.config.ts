import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev` in this folder serves the UI with hot reload and forwards the
// Syncline routes to a server started with `npm start` at the repository root.
// Dev mode listens on 127.0.0.1 (not `localhost`, which may resolve to ::1 first).
const SYNCLINE = process.env.SYNCLINE_URL ?? 'http://127.0.0.1:8787';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      '/connect': { target: SYNCLINE, ws: true },
      '/dev': SYNCLINE,
    },
  },
});
