import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * Built into <repo>/dist/apps/console, which the gateway serves at `/` (SPA fallback to index.html).
 * In development `vite --config apps/console/vite.config.ts` proxies /api to the gateway.
 */
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: path.resolve(root, '../../dist/apps/console'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 2_500,
    sourcemap: false,
    rolldownOptions: {
      output: {
        // Libraries change less often than pages: their own chunks stay cached across releases.
        advancedChunks: {
          groups: [
            { name: 'echarts', test: /node_modules[\\/](echarts|zrender)/ },
            { name: 'antd', test: /node_modules[\\/](antd|@ant-design|@rc-component|rc-[a-z-]+|dayjs)/ },
            { name: 'react', test: /node_modules[\\/](react|react-dom|react-router|react-router-dom|scheduler)[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    port: Number(process.env['CONSOLE_DEV_PORT'] ?? 4200),
    host: '127.0.0.1',
    proxy: { '/api': { target: process.env['GATEWAY_URL'] ?? 'http://127.0.0.1:3000', changeOrigin: false } },
  },
  preview: { port: 4300, host: '127.0.0.1' },
});
