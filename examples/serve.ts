// `npm run example`: serves the browser client page (examples/browser/), pusher-js's browser build
// from node_modules, and /config.json telling the page where the API and the gateway are.
// Only the paths below exist: no directory listing, nothing else on disk is reachable.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export interface ClientConfig {
  /** Where the REST API is, e.g. http://localhost:3000 (called cross-origin; CORS allows it). */
  apiUrl: string;
  wsHost: string;
  wsPort: number;
  /** The project's gateway key (`tocsin project create` prints it). */
  key: string;
  /** Pre-fills the login form; the user can change it. */
  projectSlug: string;
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const pusherJs = createRequire(import.meta.url).resolve('pusher-js/dist/web/pusher.min.js');
const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';

/** The request's path, normalised as a browser would; '' for a target that is not a URL. */
const pathOf = (target: string) =>
  URL.canParse(target, 'http://example') ? new URL(target, 'http://example').pathname : '';

export function startExampleServer(config: ClientConfig, port = 8080, host = '127.0.0.1') {
  const page = async () => ({ type: HTML, body: await readFile(here('./browser/index.html')) });
  const routes = new Map<string, () => Promise<{ type: string; body: string | Buffer }>>([
    ['/', page],
    ['/index.html', page],
    ['/app.js', async () => ({ type: JS, body: await readFile(here('./browser/app.js')) })],
    ['/pusher.min.js', async () => ({ type: JS, body: await readFile(pusherJs) })],
    ['/config.json', async () => ({ type: 'application/json', body: JSON.stringify(config) })],
  ]);
  const headers = {
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    // The page may talk only to its own server, the API and the gateway.
    'Content-Security-Policy':
      `default-src 'self'; connect-src 'self' ${new URL(config.apiUrl).origin} ws://${config.wsHost}:${config.wsPort}; ` +
      "img-src 'self' data:; style-src 'self' 'unsafe-inline'",
  };
  const server = createServer(async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    // Exact matches against a fixed table: `..`, encoded or not, can only ever miss.
    const route = routes.get(pathOf(req.url ?? ''));
    if (!route) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('Not found\n');
      return;
    }
    try {
      const { type, body } = await route();
      res.writeHead(200, { ...headers, 'Content-Type': type }).end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      console.error(err);
      res.writeHead(500, { ...headers, 'Content-Type': 'text/plain' }).end('Server error\n');
    }
  });
  return new Promise<{ url: string; close: () => Promise<void> }>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve({
        url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${bound}/`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

/** Flags win over the environment; the defaults match `npm start` on this machine. */
function configFromArgs(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: process.env.EXAMPLE_PORT ?? '8080' },
      host: { type: 'string', default: process.env.EXAMPLE_HOST ?? '127.0.0.1' },
      'api-url': { type: 'string', default: process.env.TOCSIN_URL ?? 'http://localhost:3000' },
      'ws-host': { type: 'string', default: process.env.TOCSIN_GATEWAY_HOST },
      'ws-port': { type: 'string', default: process.env.TOCSIN_GATEWAY_PORT ?? '6001' },
      key: { type: 'string', default: process.env.TOCSIN_GATEWAY_KEY },
      project: { type: 'string', default: process.env.TOCSIN_PROJECT ?? '' },
    },
  });
  if (!values.key) {
    throw new Error(
      'The project\'s gateway key is required: --key KEY or TOCSIN_GATEWAY_KEY (printed by "tocsin project create")',
    );
  }
  const apiUrl = values['api-url'].replace(/\/+$/, '');
  const config: ClientConfig = {
    apiUrl,
    wsHost: values['ws-host'] ?? new URL(apiUrl).hostname,
    wsPort: Number(values['ws-port']),
    key: values.key,
    projectSlug: values.project,
  };
  return { config, port: Number(values.port), host: values.host };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const { config, port, host } = configFromArgs(process.argv.slice(2));
    const { url } = await startExampleServer(config, port, host);
    console.log(`Tocsin example client: ${url}`);
    console.log(`  API ${config.apiUrl}, gateway ws://${config.wsHost}:${config.wsPort}, key ${config.key}`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
