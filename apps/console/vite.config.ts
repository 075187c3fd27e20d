import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const API_ORIGIN = 'http://localhost:3000';

export default defineConfig({
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  server: {
    // Same-origin in development too: the API's session cookie and CSRF checks
    // see the console's origin, exactly as when the API serves the built files.
    proxy: {
      '/v1': API_ORIGIN,
      '/health': API_ORIGIN,
      '/docs': API_ORIGIN,
      '/openapi.json': API_ORIGIN,
    },
  },
});
