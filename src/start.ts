// Starts the requested roles in this process and returns what closes them. The database is
// prepared (migrations, first admin) in the background with retries, so a process started
// while MySQL is down stays up, answers /ready with 503, and heals when MySQL returns.
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { Config } from './core/config.js';
import type { Db } from './core/db.js';
import { createServices, type Services } from './services.js';
import type { Logger } from './core/log.js';
import { migrate, MigrationError } from './core/migrate.js';
import { createRequestRedis } from './core/redis.js';
import type { Closer } from './core/shutdown.js';
import { ensureSuperAdmin } from './domain/admins.js';
import { startGateway, type Gateway } from './gateway/server.js';
import { createApiApp } from './http/app.js';
import { metricsApp } from './http/routes/metrics.js';
import { createQueue, QUEUE_NAMES } from './core/queues.js';
import { createGatewayApi } from './realtime/api.js';
import { notificationHooks } from './realtime/notifications.js';
import { webhookHooks } from './realtime/webhooks.js';
import { createDeliveryQueues, deliveryDispatch, startDeliveryWorkers } from './workers/delivery/index.js';
import { createDeliveryProviders, type DeliveryProviders } from './workers/push/providers.js';
import { startWebhookWorker } from './workers/webhooks.js';
import { startWorkers } from './workers/index.js';

export const ROLES = ['api', 'gateway', 'worker'] as const;
export type Role = (typeof ROLES)[number];

export type { Services };

export interface Running {
  apiPort?: number;
  metricsPort?: number;
  gateway?: Gateway;
  services: Services;
  db: Db;
  /** Resolves once migrations are applied and the first admin exists. */
  prepared: Promise<void>;
  closers: Closer[];
}

type DatabaseState = { status: 'pending' | 'ready' } | { status: 'failed'; reason: string };

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 15_000;

async function prepareDatabase(
  deps: { config: Config; db: Db; log: Logger; print: (text: string) => void },
  state: { current: DatabaseState; stopped: boolean },
): Promise<void> {
  const { config, db, log } = deps;
  for (let attempt = 0; !state.stopped; attempt++) {
    try {
      await migrate({ url: config.database.url, log: (line) => log.info(line) });
      const admin = await ensureSuperAdmin(db, config);
      if (admin.created) {
        log.info({ email: admin.email }, 'Created the super admin');
        if (admin.generatedPassword) {
          deps.print(
            `Super admin created: ${admin.email} / ${admin.generatedPassword}\n` +
              '(generated because TOCSIN_ADMIN_PASSWORD is not set; it is shown only this once)',
          );
        }
      }
      state.current = { status: 'ready' };
      return;
    } catch (err) {
      if (err instanceof MigrationError) {
        // A failed or edited migration needs a human; retrying would not change anything.
        state.current = { status: 'failed', reason: err.message };
        log.fatal({ err }, 'Migrations refused; fix them and restart');
        return;
      }
      const delay = Math.min(RETRY_MIN_MS * 2 ** attempt, RETRY_MAX_MS);
      log.warn({ err: (err as Error).message, retryInMs: delay }, 'Database not ready; retrying');
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));

export async function startTocsin(options: {
  config: Config;
  roles: readonly Role[];
  log: Logger;
  print?: (text: string) => void;
  /** Push/Pusher senders (tests point them at local fakes). */
  providers?: DeliveryProviders;
}): Promise<Running> {
  const { config, roles, log } = options;
  const print = options.print ?? ((text: string) => process.stdout.write(`${text}\n`));
  const { services, closers: serviceClosers } = createServices(config, log);
  const { db, redis } = services;

  const state = { current: { status: 'pending' } as DatabaseState, stopped: false };
  const prepared = prepareDatabase({ config, db, log, print }, state);
  // The API and the gateway stop together: draining HTTP requests must not hold the gateway's
  // sockets open (clients reconnect elsewhere on 4200 while in-flight requests finish).
  const frontDoors: Array<() => Promise<void>> = [];
  const closers: Closer[] = [
    {
      name: 'api and gateway',
      close: async () => void (await Promise.all(frontDoors.map((close) => close()))),
    },
  ];
  const running: Running = { services, db, prepared, closers };

  if (roles.includes('api')) {
    const requestRedis = createRequestRedis(config.redis.url);
    requestRedis.on('error', (err) => log.warn({ err: err.message }, 'Redis connection error'));
    const app = createApiApp({
      ...services,
      redis: requestRedis,
      readiness: {
        mysql: () => db.ping(),
        redis: async () => void (await redis.ping()),
        migrations: async () => {
          if (state.current.status === 'failed') throw new Error(state.current.reason);
          if (state.current.status === 'pending') throw new Error('not applied yet');
        },
      },
    });
    const server = serve({ fetch: app.fetch, port: config.http.port, hostname: config.http.host }) as Server;
    running.apiPort = await listen(server);
    log.info({ port: running.apiPort }, 'API listening');
    frontDoors.push(async () => {
      await closeServer(server);
      await requestRedis.quit().catch(() => requestRedis.disconnect());
    });
  }
  if (config.metricsPort !== undefined) {
    const app = metricsApp(services.metrics, config.metricsToken, log);
    const server = serve({
      fetch: app.fetch,
      port: config.metricsPort,
      hostname: config.http.host,
    }) as Server;
    running.metricsPort = await listen(server);
    log.info({ port: running.metricsPort }, 'Metrics listening');
    frontDoors.push(() => closeServer(server));
  }
  if (roles.includes('gateway')) {
    const webhookQueue = createQueue(QUEUE_NAMES.webhooks, {
      redisUrl: config.redis.url,
      prefix: services.keys.bullPrefix,
    });
    const webhooks = webhookHooks(webhookQueue, log);
    running.gateway = await startGateway({
      ...config.gateway,
      services,
      hooks: { ...notificationHooks(services), ...webhooks },
    });
    frontDoors.push(async () => {
      await running.gateway!.close();
      await webhooks.flush(); // what the closing sockets reported (vacated, member_removed)
      await webhookQueue.close();
    });
  }
  if (roles.includes('worker')) {
    // Started once the tables exist; closed after the front doors, before the connections.
    let workers: Array<{ close(): Promise<void> }> = [];
    let stopped = false;
    const providers = options.providers ?? createDeliveryProviders(services);
    void prepared.then(() => {
      if (stopped || state.current.status !== 'ready') return;
      const queues = createDeliveryQueues(services);
      workers = [
        startWorkers(services, { onDispatch: deliveryDispatch(services, queues.delivery) }),
        startDeliveryWorkers(services, { queues, gateway: createGatewayApi(services), providers }),
        startWebhookWorker(services),
        queues,
      ];
    });
    closers.push({
      name: 'workers',
      close: async () => {
        stopped = true;
        // The producers first (consumer, digests), then the delivery workers, then their queues.
        for (const part of workers) await part.close();
        await providers.close();
      },
    });
  }
  closers.push(
    {
      name: 'database preparation',
      close: async () => {
        state.stopped = true;
      },
    },
    ...serviceClosers,
  );
  return running;
}
