// Liveness (the process answers) and readiness (its dependencies answer).
import { Hono } from 'hono';
import type { AppEnv } from '../middleware/request-context.js';

export type ReadinessCheck = () => Promise<void>;

const CHECK_TIMEOUT_MS = 2_000;

async function runCheck(check: ReadinessCheck): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0]!.slice(0, 200) : 'failed';
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(checks: Record<string, ReadinessCheck>) {
  return new Hono<AppEnv>()
    .get('/health', (c) => c.json({ status: 'ok' }))
    .get('/ready', async (c) => {
      const names = Object.keys(checks);
      const results = await Promise.all(names.map((name) => runCheck(checks[name]!)));
      const report = Object.fromEntries(names.map((name, i) => [name, results[i]]));
      const ready = results.every((r) => r === 'ok');
      return c.json({ status: ready ? 'ok' : 'unavailable', checks: report }, ready ? 200 : 503);
    });
}
