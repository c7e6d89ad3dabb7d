// /console — the operator console: static ES modules from src/console, no build step. Every
// path that is not an asset gets the page, which routes on the client (so a deep link works);
// the page itself talks only to the REST API. A strict CSP: nothing but this origin, no inline
// script or style.
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../core/config.js';
import { sendError } from '../middleware/errors.js';
import { createRouter } from '../openapi.js';

export const CONSOLE_PATH = '/console';
const ROOT = fileURLToPath(new URL('../../console/', import.meta.url));
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Where sound files are played from: this hub's signed URLs, or the S3 bucket. */
function mediaOrigins(config: Config): string[] {
  const origins = [new URL(config.http.publicUrl).origin];
  const s3 = config.storage.s3;
  if (s3)
    origins.push(
      s3.endpoint ? new URL(s3.endpoint).origin : `https://${s3.bucket}.s3.${s3.region}.amazonaws.com`,
    );
  return origins;
}

export function contentSecurityPolicy(config: Config): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `media-src 'self' blob: ${mediaOrigins(config).join(' ')}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Read once at start: a handful of small files, served from memory. */
function loadAssets(): Map<string, { body: string; type: string }> {
  const assets = new Map<string, { body: string; type: string }>();
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name), `${prefix}${entry.name}/`);
      else if (TYPES[extname(entry.name)])
        assets.set(`${prefix}${entry.name}`, {
          body: readFileSync(join(dir, entry.name), 'utf8'),
          type: TYPES[extname(entry.name)]!,
        });
    }
  };
  walk(join(ROOT, 'assets'), '');
  return assets;
}

export function consoleRoutes(config: Config) {
  const router = createRouter();
  const page = readFileSync(join(ROOT, 'index.html'), 'utf8');
  const assets = loadAssets();
  const csp = contentSecurityPolicy(config);

  const headers = (type: string) => ({
    'Content-Type': type,
    'Content-Security-Policy': csp,
    'Referrer-Policy': 'no-referrer',
    // Revalidated on every load, so an upgraded hub never runs an old script.
    'Cache-Control': 'no-cache',
  });

  router.get(`${CONSOLE_PATH}/assets/:file{.+}`, (c) => {
    const asset = assets.get(c.req.param('file'));
    if (!asset) return sendError(c, 404, 'not_found', 'No such console asset');
    return c.body(asset.body, 200, headers(asset.type));
  });
  const showPage = () => new Response(page, { headers: headers('text/html; charset=utf-8') });
  router.get(CONSOLE_PATH, showPage);
  router.get(`${CONSOLE_PATH}/*`, showPage);
  return router;
}
