// Runs Tocsin in the test process on ephemeral ports against the worker's database and Redis.
import { createLogger } from '../../src/core/log.js';
import { runClosers } from '../../src/core/shutdown.js';
import { startTocsin, ROLES, type Role, type Running } from '../../src/start.js';
import { testConfig } from './env.js';
import type { DeliveryProviders } from '../../src/workers/push/providers.js';

export interface TestHub {
  running: Running;
  apiUrl: string;
  gatewayPort: number;
  printed: string[];
  close(): Promise<void>;
}

export async function startHub(
  overrides: Record<string, string> = {},
  roles: readonly Role[] = ROLES,
  extra: { providers?: DeliveryProviders } = {},
): Promise<TestHub> {
  const config = testConfig({ HTTP_PORT: '0', GATEWAY_PORT: '0', ...overrides });
  const log = createLogger({ level: config.logLevel });
  const printed: string[] = [];
  const running = await startTocsin({ config, roles, log, print: (text) => printed.push(text), ...extra });
  return {
    running,
    apiUrl: `http://127.0.0.1:${running.apiPort ?? 0}`,
    gatewayPort: running.gateway?.port ?? 0,
    printed,
    close: async () => void (await runClosers(running.closers, log)),
  };
}
