import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built into the server package, which serves it at /admin (packages/server/admin-dist).
// `npm run dev` here serves it with hot reload and forwards the node's routes
// to a server started with `npm start` at the repository root.
const SYNCLINE = process.env.SYNCLINE_URL ?? 'http://127.0.0.1:8787';

export default defineConfig({
  root: import.meta.dirname,
  base: '/admin/',
  plugins: [react()],
  build: {
    outDir: '../server/admin-dist',
    emptyOutDir: true,
    // No inline scripts or styles: the console is served under `script-src 'self'; style-src 'self'`.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      '/admin/login': SYNCLINE,
      '/admin/logout': SYNCLINE,
      '/admin/api': SYNCLINE,
      '/v1': SYNCLINE,
      '/connect': { target: SYNCLINE, ws: true },
    },
  },
});
