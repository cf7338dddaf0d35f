import { defineConfig } from 'drizzle-kit';

// The PostgreSQL migrations (STINT_DATABASE_URL=postgres://…), beside the SQLite ones in migrations/.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/adapters/postgres/schema.ts',
  out: './migrations/pg',
});
