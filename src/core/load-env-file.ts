// Imported first by src/main.ts: ES modules run in import order, so `.env` is in process.env
// before any other module of the command runs.
import { loadEnvFile } from './env-file.js';

try {
  loadEnvFile();
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(78); // EXIT.config (cli/output.ts), not imported: nothing runs before this file
}
