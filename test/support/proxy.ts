// A TCP proxy we can cut and restore, to take MySQL or Redis "down" for one process under
// test without stopping the shared servers.
import net from 'node:net';
import { ADMIN_URL, workerDatabase, workerId } from './env.js';
import { startHub, type TestHub } from './hub.js';

export interface CuttableProxy {
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(target: { host: string; port: number }): Promise<CuttableProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server;
  let port = 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });

  const cut = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });

  await listen();
  return {
    get port() {
      return port;
    },
    cut,
    restore: listen,
    close: cut,
  };
}

export interface ProxiedHub {
  hub: TestHub;
  mysql: CuttableProxy;
  redis: CuttableProxy;
  close(): Promise<void>;
}

/** An API-only hub that reaches MySQL and Redis through proxies a test can cut. */
export async function startProxiedHub(): Promise<ProxiedHub> {
  const mysql = await startProxy({ host: '127.0.0.1', port: 3306 });
  const redis = await startProxy({ host: '127.0.0.1', port: 6379 });
  const mysqlUrl = new URL(ADMIN_URL);
  mysqlUrl.port = String(mysql.port);
  const hub = await startHub(
    {
      DATABASE_URL: `${mysqlUrl.href.replace(/\/$/, '')}/${workerDatabase(workerId())}`,
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
    },
    ['api'],
  );
  await hub.running.prepared;
  return {
    hub,
    mysql,
    redis,
    async close() {
      await hub.close();
      await Promise.all([mysql.close(), redis.close()]);
    },
  };
}
