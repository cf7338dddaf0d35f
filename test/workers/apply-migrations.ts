import { applyD1Migrations, env } from 'cloudflare:test';

// The same migrations/ folder as Node's start-up and wrangler's `d1 migrations apply`.
await applyD1Migrations((env as any).DB, (env as any).TEST_MIGRATIONS);
