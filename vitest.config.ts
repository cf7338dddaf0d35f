import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { test: { name: 'node', include: ['test/**/*.test.ts'], exclude: ['test/workers/**'], testTimeout: 30_000, hookTimeout: 60_000, globalSetup: ['./test/warm-dir.setup.ts'] } },
      {
        // Inside workerd, with the broker Worker's own wrangler.toml (D1 from migrations/).
        plugins: [
          cloudflareTest(async () => ({
            main: './src/runtime/cloudflare/broker.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations('./migrations'),
                STINT_ADMIN_TOKEN: 'workers-admin-token-0123456789',
                STINT_MASTER_KEY: btoa(String.fromCharCode(...new Uint8Array(32).fill(5))),
              },
              // wrangler.toml binds APPROVALS to the approval Worker; here it is a stub that has
              // no keys yet (the approval path runs end to end under `npm run test:worker-e2e`).
              workers: [
                {
                  name: 'stint-approvals',
                  modules: true,
                  script: `export default { fetch() { return Response.json({ keys: [] }); } };`,
                },
              ],
            },
          })),
        ],
        test: { name: 'workers', include: ['test/workers/**/*.test.ts'], setupFiles: ['./test/workers/apply-migrations.ts'], testTimeout: 30_000 },
      },
    ],
  },
});
