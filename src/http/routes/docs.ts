// GET /docs — Swagger UI for the OpenAPI document, served from the swagger-ui-dist package by the
// hub itself: the page works without internet, and its CSP allows no origin but the hub's own.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createRouter } from '../openapi.js';

const DIST = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The package files the page loads, with their types; nothing else of the package is served. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

// Swagger UI sets style attributes at run time and draws its icons from data: URLs.
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const page = (specUrl: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Tocsin API</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css">
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  </head>
  <body>
    <div id="swagger-ui" data-url="${specUrl}"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

// An external file, not an inline script: the CSP allows scripts from the hub only.
const INIT = `const root = document.getElementById('swagger-ui');
window.ui = SwaggerUIBundle({ url: root.dataset.url, domNode: root, deepLinking: true });
`;

const cache = new Map<string, Promise<Buffer>>();
const asset = (name: string) => {
  if (!cache.has(name)) cache.set(name, readFile(join(DIST, name)));
  return cache.get(name)!;
};

export function docsRoutes(specUrl: string) {
  const router = createRouter();
  router.use('/docs/*', async (c, next) => {
    await next();
    c.header('Content-Security-Policy', DOCS_CSP);
  });
  router.get('/docs', (c) => c.html(page(specUrl)));
  router.get('/docs/init.js', (c) => c.body(INIT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  router.get('/docs/:file', async (c) => {
    const type = ASSETS[c.req.param('file')];
    if (!type) return c.notFound();
    const body = await asset(c.req.param('file'));
    return c.body(new Uint8Array(body), 200, {
      'Content-Type': type,
      'Cache-Control': 'public, max-age=3600',
    });
  });
  return router;
}
