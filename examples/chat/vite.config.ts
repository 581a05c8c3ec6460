import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev` in this folder serves the UI with hot reload and forwards the
// Syncline routes to a server started with `npm start` at the repository root.
const SYNCLINE = process.env.SYNCLINE_URL ?? 'http://localhost:8787';

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
