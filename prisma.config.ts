// Prisma CLI configuration. The runtime never reads this file: src/core/db.ts builds the
// client from the validated config. The URL is only needed by CLI commands that talk to MySQL.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/tocsin' },
});
