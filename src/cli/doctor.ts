// `tocsin doctor`: checks what the hub needs and says what to fix, one line per check.
import net from 'node:net';
import { Redis } from 'ioredis';
import mariadb from 'mariadb';
import { ConfigError, loadConfig, type Config } from '../core/config.js';
import { parseMysqlUrl } from '../core/mysql-url.js';
import { migrationStatus } from '../core/migrate.js';
import { redisOptions } from '../core/redis.js';
import { EXIT, say } from './output.js';

type Check = {
  name: string;
  run: () => Promise<{ ok: boolean; detail: string; fix?: string; warnOnly?: boolean }>;
};

async function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

function checks(config: Config): Check[] {
  const mysql = parseMysqlUrl(config.database.url);
  return [
    {
      name: 'MySQL',
      run: async () => {
        try {
          const conn = await mariadb.createConnection({
            ...mysql,
            database: undefined,
            connectTimeout: 3000,
          });
          const [row] = (await conn.query('SELECT VERSION() AS v')) as Array<{ v: string }>;
          await conn.end();
          return { ok: true, detail: `reachable at ${mysql.host}:${mysql.port} (${row?.v})` };
        } catch (err) {
          return {
            ok: false,
            detail: `cannot connect to ${mysql.host}:${mysql.port}: ${(err as Error).message}`,
            fix: 'start MySQL/MariaDB, or set DATABASE_URL to where it runs',
          };
        }
      },
    },
    {
      name: 'Migrations',
      run: async () => {
        try {
          const status = await migrationStatus({ url: config.database.url });
          if (status.failed.length) {
            return {
              ok: false,
              detail: `failed: ${status.failed.join(', ')}`,
              fix: 'fix the migration, mark it rolled back, then run `npm run migrate`',
            };
          }
          if (status.edited.length) {
            return {
              ok: false,
              detail: `edited after being applied: ${status.edited.join(', ')}`,
              fix: 'restore the original migration files; put changes in a new migration',
            };
          }
          if (status.pending.length) {
            return {
              ok: false,
              detail: `${status.pending.length} pending`,
              fix: 'run `npm run migrate` (or just `npm start`)',
              warnOnly: true,
            };
          }
          return { ok: true, detail: `${status.applied.length} applied, none pending` };
        } catch (err) {
          return { ok: false, detail: (err as Error).message, fix: 'make MySQL reachable first' };
        }
      },
    },
    {
      name: 'Redis',
      run: async () => {
        const redis = new Redis(
          redisOptions(config.redis.url, {
            lazyConnect: true,
            retryStrategy: () => null,
            maxRetriesPerRequest: 0,
          }),
        );
        redis.on('error', () => undefined);
        try {
          await redis.connect();
          const info = await redis.info('server');
          const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
          const [major = 0, minor = 0] = version.split('.').map(Number);
          if (major < 6 || (major === 6 && minor < 2)) {
            return {
              ok: false,
              detail: `version ${version}`,
              fix: 'Tocsin needs Redis 6.2 or newer (streams with XAUTOCLAIM)',
            };
          }
          return { ok: true, detail: `reachable, version ${version}` };
        } catch (err) {
          return {
            ok: false,
            detail: `cannot connect: ${(err as Error).message}`,
            fix: 'start Redis, or set REDIS_URL to where it runs',
          };
        } finally {
          redis.disconnect();
        }
      },
    },
    {
      name: 'Ports',
      run: async () => {
        const busy: string[] = [];
        if (!(await portFree(config.http.host, config.http.port))) busy.push(`HTTP_PORT ${config.http.port}`);
        if (!(await portFree('0.0.0.0', config.gateway.port)))
          busy.push(`GATEWAY_PORT ${config.gateway.port}`);
        return busy.length
          ? {
              ok: false,
              detail: `in use: ${busy.join(', ')}`,
              fix: 'stop what uses them (a running Tocsin?) or choose other ports',
              warnOnly: true,
            }
          : { ok: true, detail: `${config.http.port} and ${config.gateway.port} are free` };
      },
    },
    {
      name: 'Secrets',
      run: async () =>
        config.env === 'production'
          ? { ok: true, detail: 'production secrets are set' }
          : {
              ok: false,
              warnOnly: true,
              detail: `NODE_ENV=${config.env}: development defaults may be in use`,
              fix: 'set NODE_ENV=production with your own TOCSIN_* secrets before going live',
            },
    },
  ];
}

export async function doctor(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
    say('✔ Configuration  valid');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    say(`✖ Configuration  ${err.message}`);
    say('  fix: correct that variable (see .env.example)');
    return EXIT.config;
  }
  let failures = 0;
  for (const check of checks(config)) {
    const result = await check.run();
    const mark = result.ok ? '✔' : result.warnOnly ? '!' : '✖';
    say(`${mark} ${check.name.padEnd(14)} ${result.detail}`);
    if (!result.ok && result.fix) say(`  fix: ${result.fix}`);
    if (!result.ok && !result.warnOnly) failures++;
  }
  say(failures ? `${failures} problem(s) to fix.` : 'Everything Tocsin needs is in place.');
  return failures ? EXIT.unavailable : EXIT.ok;
}
