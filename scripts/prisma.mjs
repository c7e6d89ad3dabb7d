#!/usr/bin/env node
// Runs the Prisma CLI with a schema-engine stub that fails loudly: the real binary cannot be
// downloaded on our machines, and a stub that "succeeds" would make migrate commands silently
// do nothing. Generation needs no engine; migrations are applied by `tocsin migrate`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const stub = fileURLToPath(new URL('./schema-engine-stub.sh', import.meta.url));
const cli = fileURLToPath(new URL('../node_modules/prisma/build/index.js', import.meta.url));
const result = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: stub,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
});
process.exit(result.status ?? 1);
