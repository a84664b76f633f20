// What every browser test stands on: the real auth server process (packages/server/dist/bin.js),
// the pages on a second origin (TESSERA_CORS_ORIGINS lists it), and Debian's Chromium driven by
// playwright-core. Both origins are `localhost` on two ports: two origins of one site, which is
// what a SameSite=Strict refresh cookie allows (an app and its auth server under one domain).
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type AuthServer, cleanUp, freePort, SERVER_BIN, startAuthServer } from '../../lib/processes.js';
import { CLIENT_BUNDLE, type StaticServer, serveStatic } from './static-server.js';

/** Where Chromium is: Debian's package, unless CHROMIUM_PATH says otherwise. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Git-ignored: the screenshots of every page state, for a person to look at. */
export const SCREENSHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));

/**
 * Whether the browser tests run here. On a developer machine without Chromium they are skipped;
 * under CI (`CI=true`) they never are: a missing browser fails them.
 */
export const browserAvailable = existsSync(CHROMIUM) || process.env.CI === 'true';

/** Headless Chromium as root in a container, nothing phoning home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Stack {
  auth: AuthServer;
  /** The auth server as the browser knows it: `http://localhost:<port>`. */
  issuer: string;
  /** The pages' origin: `http://localhost:<port>`. */
  appOrigin: string;
  browser: Browser;
  /** The page URL for `mode` (`extra`: more query parameters). */
  pageUrl(mode: 'token' | 'cookie', extra?: string): string;
  /** The same page from an origin the auth server does not list, on another site (`127.0.0.1`). */
  foreignUrl(mode: 'token' | 'cookie'): string;
  close(): Promise<void>;
}

/** Starts the auth server, the static server and Chromium. */
export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  for (const [file, hint] of [
    [SERVER_BIN, 'the server'],
    [CLIENT_BUNDLE, 'the client bundle'],
  ] as const) {
    if (!existsSync(file)) throw new Error(`${hint} is not built (${file}): run npm run build`);
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install -y chromium (.ci/run does this), or set CHROMIUM_PATH`);
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  const authPort = await freePort();
  const appPort = await freePort();
  const issuer = `http://localhost:${authPort}`;
  const appOrigin = `http://localhost:${appPort}`;
  const auth = await startAuthServer({
    port: authPort,
    issuer,
    env: { TESSERA_CORS_ORIGINS: appOrigin, TESSERA_DATABASE_URL: 'memory:', ...env },
  });
  const pages: StaticServer = await serveStatic(appPort);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  return {
    auth,
    issuer,
    appOrigin,
    browser,
    pageUrl: (mode, extra = '') => `${appOrigin}/?mode=${mode}&issuer=${encodeURIComponent(issuer)}${extra}`,
    foreignUrl: (mode) => `http://127.0.0.1:${appPort}/?mode=${mode}&issuer=${encodeURIComponent(issuer)}`,
    async close() {
      await browser.close();
      await pages.close();
      await cleanUp();
    },
  };
}

/** Saves a screenshot of `page` as `<name>.png` in {@link SCREENSHOTS}; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = `${SCREENSHOTS}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

// Page-side code is passed as strings: the repository type-checks Node code, without the DOM's types.

/** Opens the page and waits until the client has restored (or not) the session. */
export async function openApp(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction("document.body.dataset.ready === 'true'");
}

/** The page's shown state: `signed-in` or `signed-out`. */
export function shownState(page: Page): Promise<string | undefined> {
  return page.evaluate<string | undefined>('document.body.dataset.state');
}

/** Waits until the page shows `state`. */
export async function waitForState(page: Page, state: 'signed-in' | 'signed-out', timeout = 5_000): Promise<void> {
  await page.waitForFunction(`document.body.dataset.state === ${JSON.stringify(state)}`, null, { timeout });
}

/** Reads one counter (with its labels, as Prometheus prints them) from the auth server's /metrics. */
export async function metric(auth: AuthServer, series: string): Promise<number> {
  const text = await (await fetch(`${auth.base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}
