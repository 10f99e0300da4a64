import { defineConfig } from 'vite';

// The console is served by the API under /console; assets get content hashes, so they are cached for a year.
// `npm run dev -w @comms/console` proxies the API of a running `npm start`.
export default defineConfig({
  base: '/console/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    rollupOptions: {
      // TanStack Query marks its hooks "use client" for React Server Components; meaningless in a browser bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: { proxy: { '/api': { target: 'http://localhost:8003', ws: true } } },
});
