// /docs in headless Chromium with the network cut off: Swagger UI comes from the hub itself (no
// CDN), its CSP names no other origin, and the page lists the API's operations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { startHub, type TestHub } from '../support/hub.js';

let hub: TestHub;
let browser: Browser;

beforeAll(async () => {
  [hub, browser] = await Promise.all([startHub({}, ['api']), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await hub?.close();
});

const isLoopback = (url: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);

// Chromium renders a 1.7 MB bundle: slow on a loaded machine.
describe('/docs', { timeout: 90_000 }, () => {
  it('renders every operation offline, from the hub alone', async () => {
    const doc = (await (await fetch(`${hub.apiUrl}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.values(doc.paths).reduce((n, methods) => n + Object.keys(methods).length, 0);

    const page = await browser.newPage();
    const blocked: string[] = [];
    const problems: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('data:') || isLoopback(url)) return route.continue();
      blocked.push(url);
      return route.abort('internetdisconnected');
    });
    page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
    page.on('pageerror', (e) => problems.push(e.message));

    const response = await page.goto(`${hub.apiUrl}/docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 60_000 });
    expect(await page.title()).toBe('Tocsin API');
    expect(await page.locator('.opblock').count()).toBe(operations);
    expect(
      await page.locator('.opblock-summary-path', { hasText: '/api/v1/events' }).count(),
    ).toBeGreaterThan(0);
    expect(blocked).toEqual([]);
    expect(problems).toEqual([]);

    // Every source the policy allows is the hub itself (or inline data).
    const csp = response!.headers()['content-security-policy']!;
    const sources = csp.split(';').flatMap((directive) => directive.trim().split(/\s+/).slice(1));
    expect(sources.filter((s) => !["'self'", "'none'", "'unsafe-inline'", 'data:'].includes(s))).toEqual([]);
    expect(csp).toContain("script-src 'self'");
    await page.close();
  });

  it('serves only the files the page needs from the package', async () => {
    for (const path of ['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/init.js']) {
      expect([path, (await fetch(`${hub.apiUrl}${path}`)).status]).toEqual([path, 200]);
    }
    for (const path of ['/docs/package.json', '/docs/index.html', '/docs/..%2fpackage.json']) {
      expect([path, (await fetch(`${hub.apiUrl}${path}`)).status]).toEqual([path, 404]);
    }
  });
});
