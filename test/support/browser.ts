// The headless Chromium every browser test drives (playwright-core downloads no browser). Found
// in this order: CHROMIUM_PATH, Debian's /usr/bin/chromium, then the one bundled in the
// @sparticuz/chromium devDependency, so `npm ci && npm test` needs no system browser.
// CHROMIUM_PATH=bundled skips the system one (to check the bundled one where both exist).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const SYSTEM_CHROMIUM = '/usr/bin/chromium';

const COMMON_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * @sparticuz/chromium's flags are made for one page in a Lambda. Left out: the ones that switch
 * off the web's security model (CORS, CORP, mixed content), which the tests check, and
 * --single-process, with which closing a page takes the whole browser down.
 */
const LEFT_OUT = ['--disable-web-security', '--allow-running-insecure-content', '--single-process'];

export interface BrowserBinary {
  source: 'CHROMIUM_PATH' | 'system' | '@sparticuz/chromium';
  executablePath: string;
  args: string[];
}

/** Which Chromium to launch; unpacks the bundled one (into the temp folder, once) if it is that. */
export async function findBrowser(env: NodeJS.ProcessEnv = process.env): Promise<BrowserBinary> {
  const named = env.CHROMIUM_PATH;
  if (named && named !== 'bundled') {
    if (!existsSync(named))
      throw new Error(`CHROMIUM_PATH=${named} does not exist: unset it or fix the path`);
    return { source: 'CHROMIUM_PATH', executablePath: named, args: COMMON_ARGS };
  }
  if (named !== 'bundled' && existsSync(SYSTEM_CHROMIUM)) {
    return { source: 'system', executablePath: SYSTEM_CHROMIUM, args: COMMON_ARGS };
  }
  const { default: bundled } = await import('@sparticuz/chromium');
  return {
    source: '@sparticuz/chromium',
    executablePath: await bundled.executablePath(),
    args: bundled.args.filter((arg) => !LEFT_OUT.includes(arg)),
  };
}

export async function launchBrowser(): Promise<Browser> {
  const { executablePath, args } = await findBrowser();
  return chromium.launch({ executablePath, args });
}
