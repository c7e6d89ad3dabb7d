// Memory per idle connection: the server process's RSS (after a full GC) as C idle WebSocket
// connections are opened, for Tocsin's gateway, Socket.IO and plain `ws`, in one run. The cost
// per connection is the growth from C/2 to C connections, so one-time costs (buffers, JIT,
// heap resizing) do not count. Run with `npx tsx bench/connections.ts [connections]`; prints a
// markdown table. Needs the local MariaDB and Redis (Tocsin uses the `tocsin_bench` database).
import { createLogger } from '../src/core/log.js';
import { runClosers } from '../src/core/shutdown.js';
import { createServices } from '../src/services.js';
import {
  KINDS,
  benchConfig,
  connectMany,
  createBenchProject,
  markdownTable,
  spawnServer,
  type Client,
} from './servers.js';

// Each process here may hold at most 20,000 open files, the server's listen socket and
// Redis/MySQL connections included: 19,500 is the most that fits.
const CONNECTIONS = Number(process.argv[2] ?? 19_500);
const HALF = Math.floor(CONNECTIONS / 2);
const SETTLE_MS = 2_000;

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

const config = benchConfig();
const log = createLogger({ level: 'warn' });
const rows: Array<Array<string | number>> = [];
let tocsinPerConnection = 0;

for (const [index, kind] of KINDS.entries()) {
  const server = await spawnServer(kind);
  const { services, closers } = createServices(config, log);
  const clients: Client[] = [];
  try {
    const key = kind === 'tocsin' ? (await createBenchProject(services)).key : '';
    // Source addresses 127.0.0.x: a fresh pair per server, so no port is still in TIME_WAIT.
    const firstAddress = 2 + index * 2;
    const empty = await server.rss();
    const started = Date.now();
    clients.push(...(await connectMany(kind, { port: server.port, key }, HALF, firstAddress)));
    await settle();
    const half = await server.rss();
    clients.push(
      ...(await connectMany(kind, { port: server.port, key }, CONNECTIONS - HALF, firstAddress + 1)),
    );
    const openSeconds = (Date.now() - started) / 1000;
    await settle();
    const full = await server.rss();
    const perConnection = (full - half) / (CONNECTIONS - HALF);
    if (kind === 'tocsin') tocsinPerConnection = perConnection;
    rows.push([
      kind,
      CONNECTIONS,
      mib(empty),
      mib(half),
      mib(full),
      (perConnection / 1024).toFixed(2),
      `${(perConnection / tocsinPerConnection).toFixed(2)}×`,
      Math.round(CONNECTIONS / openSeconds),
    ]);
  } finally {
    clients.forEach((client) => client.close());
    await server.stop();
    await runClosers(closers, log);
  }
}

process.stdout.write(
  `${markdownTable(
    [
      'server',
      'idle connections',
      'RSS empty (MiB)',
      'RSS at half (MiB)',
      'RSS full (MiB)',
      'KiB per connection',
      'vs tocsin',
      'connects/s',
    ],
    rows,
  )}\n`,
);
process.exit(0);
