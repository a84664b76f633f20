// The demo (`npm run demo`, examples/demo) in real Chromium: an app on its own origin signs in at
// the auth server in either mode and calls two resource services (Fastify, Express) on two more
// origins; a page on a fourth, unlisted origin gets nothing; a logout reaches both services through
// the revocation feed; with the auth server stopped, tokens keep working and cookie sessions do not.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { type Demo, PortInUseError, startDemo } from '@tessera/demo';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, uniqueEmail } from '../lib/http.js';
import { cleanUp, freePort, tempDir } from '../lib/processes.js';
import { browserAvailable, CHROMIUM, screenshot } from './lib/harness.js';
import { CLIENT_BUNDLE } from './lib/static-server.js';

/** An e2e bound on logout → refusal at a service (the feed's goal is far lower: 100 ms p99). */
const REVOCATION_BOUND_MS = 2_000;

type Outcome = 'ok' | 'refused' | 'unreachable';

/** A page on an origin nobody lists (`http://localhost:<port>`: same site as the demo, so its cookies ride along). */
interface ForeignSite {
  origin: string;
  /** Headers of every request `/echo` received. */
  echoed: IncomingHttpHeaders[];
  close(): Promise<void>;
}

function startForeignSite(port: number): Promise<ForeignSite> {
  const echoed: IncomingHttpHeaders[] = [];
  const bundle = readFileSync(CLIENT_BUNDLE);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/echo') {
      // Wide open on purpose: were a token sent here, it would arrive and be seen.
      res.setHeader('access-control-allow-origin', '*');
      res.setHeader('access-control-allow-headers', 'authorization');
      if (req.method !== 'OPTIONS') echoed.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    if (path === '/tessera-client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Another page</title><h1>Not the demo app</h1>');
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () =>
      resolve({
        origin: `http://localhost:${port}`,
        echoed,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    );
  });
}

describe.skipIf(!browserAvailable)('browser: the demo (app, auth server, Fastify and Express services)', () => {
  let demo: Demo;
  let browser: Browser;
  let foreign: ForeignSite;
  let tokenContext: BrowserContext;
  let cookieContext: BrowserContext;
  let tokenPage: Page;
  let cookiePage: Page;
  const tokenEmail = uniqueEmail('demo-token');
  const cookieEmail = uniqueEmail('demo-cookie');

  beforeAll(async () => {
    const [authPort, appPort, fastifyPort, expressPort, foreignPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    demo = await startDemo({ authPort, appPort, fastifyPort, expressPort, dataDir: tempDir('tessera-demo-') });
    foreign = await startForeignSite(foreignPort);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    // The app's CSP forbids eval, which Playwright's string predicates use: the tests' script is exempt, the page's is not.
    const options = { viewport: { width: 1200, height: 900 }, bypassCSP: true };
    tokenContext = await browser.newContext(options);
    cookieContext = await browser.newContext(options);
    tokenPage = await tokenContext.newPage();
    cookiePage = await cookieContext.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await foreign?.close();
    await demo?.close();
    await cleanUp();
  });

  const open = async (page: Page, mode: 'token' | 'cookie') => {
    await page.goto(`${demo.urls.app}/?mode=${mode}`);
    await page.waitForFunction("document.body.dataset.ready === 'true'");
  };
  const state = (page: Page) => page.evaluate<string | undefined>('document.body.dataset.state');
  const waitForState = (page: Page, s: 'signed-in' | 'signed-out') =>
    page.waitForFunction(`document.body.dataset.state === ${JSON.stringify(s)}`, null, { timeout: 10_000 });

  async function submit(page: Page, email: string, button: '#sign-up' | '#sign-in') {
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', PASSWORD);
    await page.click(button);
    await waitForState(page, 'signed-in');
  }

  /** Clicks `button` and waits for each result card to show its answer; returns their outcomes and texts. */
  async function call(page: Page, button: string, cards: ('fastify' | 'express' | 'me')[]) {
    await page.click(button);
    const answers: Record<string, { outcome: Outcome; text: string }> = {};
    for (const card of cards) {
      const selector = `#result-${card}`;
      await page.waitForFunction(`['ok', 'refused', 'unreachable'].includes(document.querySelector('${selector}').dataset.outcome)`);
      answers[card] = {
        outcome: (await page.getAttribute(selector, 'data-outcome')) as Outcome,
        text: (await page.textContent(selector)) ?? '',
      };
    }
    return answers;
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  describe('token mode', () => {
    let userId: string;

    it('signs up through the app; the token panel shows the access token’s size and expiry', async () => {
      await open(tokenPage, 'token');
      expect(await state(tokenPage)).toBe('signed-out');
      await screenshot(tokenPage, 'demo-1-token-signed-out');
      await submit(tokenPage, tokenEmail, '#sign-up');
      expect(await tokenPage.textContent('#status')).toContain(tokenEmail);
      userId = ((await tokenPage.textContent('#user-id')) ?? '').trim();
      expect(userId).toMatch(/^[0-9a-f-]{36}$/);
      await tokenPage.waitForSelector('#token-info:not([hidden])');
      const token = (await tokenPage.evaluate<string | null>('window.demo.client.accessToken()')) as string;
      expect(await tokenPage.textContent('#token-size')).toBe(String(token.length));
      expect(await tokenPage.textContent('#token-left')).toMatch(/in \d+ min/);
    });

    it('calls both services cross-origin with the token: each answers with its name, the claims and the verification time', async () => {
      const answers = await call(tokenPage, '#call-both', ['fastify', 'express']);
      for (const [id, origin] of [
        ['fastify', demo.urls.fastify],
        ['express', demo.urls.express],
      ] as const) {
        const { outcome, text } = answers[id] as { outcome: Outcome; text: string };
        expect(outcome, text).toBe('ok');
        expect(text).toContain(`${id} answered`);
        expect(text).toContain(userId);
        expect(text).toContain(origin); // its own audience
        expect(text).toMatch(/Verification in the service: \d+(\.\d+)? ms/);
        expect(text).toMatch(/Server-Timing: verify;dur=\d+\.\d{3}/);
      }
      await screenshot(tokenPage, 'demo-2-token-both-services');
    });

    it('the auth server’s /v1/me answers from the token', async () => {
      const { me } = await call(tokenPage, '#call-me', ['me']);
      expect(me?.outcome).toBe('ok');
      expect(me?.text).toContain('"auth": "jwt"');
      expect(me?.text).toContain(tokenEmail);
    });

    // XSS exfiltration: script on the demo page looks everywhere it could for the refresh token.
    it('page script cannot read the refresh token: not in document.cookie, localStorage or sessionStorage', async () => {
      const refresh = (await tokenContext.cookies(`${demo.urls.auth}/v1/token`)).find((c) => c.name === 'tessera_refresh');
      expect(refresh).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/v1/token' });
      const visible = await tokenPage.evaluate<string>(
        `[document.cookie, JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage })].join('\\n')`,
      );
      expect(visible).not.toContain(refresh?.value as string);
      expect(visible).not.toContain('rt_');
    });

    it('the client never attaches the token to an origin it was not given', async () => {
      await tokenPage.evaluate(`window.demo.client.fetch(${JSON.stringify(`${foreign.origin}/echo`)}).then((r) => r.text())`);
      expect(foreign.echoed.length).toBe(1);
      expect(foreign.echoed[0]?.authorization).toBeUndefined();
      expect(foreign.echoed[0]?.cookie).toBeUndefined();
    });

    it('sign-out: both services refuse the old access token within the revocation bound', async () => {
      const old = (await tokenPage.evaluate<string | null>('window.demo.client.accessToken()')) as string;
      for (const url of [demo.urls.fastify, demo.urls.express]) {
        expect((await fetch(`${url}/hello`, { headers: bearer(old) })).status).toBe(200);
      }
      const logout = tokenPage.waitForResponse((r) => r.url().endsWith('/v1/logout'));
      await tokenPage.click('#sign-out');
      expect((await logout).status()).toBe(204);
      const loggedOutAt = performance.now();
      const refusedAfter = async (url: string): Promise<number> => {
        for (;;) {
          const res = await fetch(`${url}/hello`, { headers: bearer(old) });
          const body = (await res.json()) as { error_description?: string };
          if (res.status === 401) {
            expect(body.error_description).toBe('the access token was revoked');
            return performance.now() - loggedOutAt;
          }
          if (performance.now() - loggedOutAt > REVOCATION_BOUND_MS * 2) return Number.POSITIVE_INFINITY;
        }
      };
      const [fastifyMs, expressMs] = await Promise.all([refusedAfter(demo.urls.fastify), refusedAfter(demo.urls.express)]);
      console.log(`demo: logout → refusal of the old access token: Fastify ${fastifyMs.toFixed(1)} ms, Express ${expressMs.toFixed(1)} ms`);
      expect(fastifyMs).toBeLessThan(REVOCATION_BOUND_MS);
      expect(expressMs).toBeLessThan(REVOCATION_BOUND_MS);
      await waitForState(tokenPage, 'signed-out');

      // The page shows it too: replaying the signed-out token gets "revoked" from both.
      const answers = await call(tokenPage, '#replay-old', ['fastify', 'express']);
      for (const id of ['fastify', 'express']) {
        expect(answers[id]?.outcome).toBe('refused');
        expect(answers[id]?.text).toContain('the access token was revoked');
      }
      await screenshot(tokenPage, 'demo-3-token-signed-out-replayed');
    });

    it('signs in again with the same account', async () => {
      await submit(tokenPage, tokenEmail, '#sign-in');
      const answers = await call(tokenPage, '#call-both', ['fastify', 'express']);
      expect(answers.fastify?.outcome).toBe('ok');
      expect(answers.express?.outcome).toBe('ok');
    });
  });

  describe('cookie mode', () => {
    it('signs up with a session cookie the page cannot read; /v1/me answers from the session', async () => {
      await open(cookiePage, 'cookie');
      await submit(cookiePage, cookieEmail, '#sign-up');
      const session = (await cookieContext.cookies(demo.urls.auth)).find((c) => c.name === 'tessera_session');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
      expect(await cookiePage.evaluate<string>('document.cookie')).not.toContain(session?.value as string);
      expect(await cookiePage.textContent('#token-none-text')).toContain('None in cookie mode');
      const { me } = await call(cookiePage, '#call-me', ['me']);
      expect(me?.outcome).toBe('ok');
      expect(me?.text).toContain('"auth": "session"');
    });

    it('the services have no token to verify: both answer 401', async () => {
      const answers = await call(cookiePage, '#call-both', ['fastify', 'express']);
      for (const id of ['fastify', 'express']) {
        expect(answers[id]?.outcome).toBe('refused');
        expect(answers[id]?.text).toContain('401');
      }
      await screenshot(cookiePage, 'demo-4-cookie-signed-in');
    });

    it('signs out and in again', async () => {
      await cookiePage.click('#sign-out');
      await waitForState(cookiePage, 'signed-out');
      await submit(cookiePage, cookieEmail, '#sign-in');
      expect(await cookiePage.textContent('#status')).toContain('cookie mode');
    });
  });

  // CORS and CSRF hold: a page on an unlisted origin of the same site (its requests carry the
  // user's cookies) reads nothing and changes nothing.
  describe('a page on a third, unlisted origin', () => {
    it('cannot read the services or the auth server, and gets no token from the refresh cookie', async () => {
      const page = await tokenContext.newPage();
      const serviceRequests: Record<string, string>[] = [];
      page.on('request', (r) => {
        if (r.url().startsWith(demo.urls.fastify) || r.url().startsWith(demo.urls.express)) serviceRequests.push(r.headers());
      });
      await page.goto(`${foreign.origin}/`);
      const refreshBefore = (await tokenContext.cookies(`${demo.urls.auth}/v1/token`)).find((c) => c.name === 'tessera_refresh')?.value;
      expect(refreshBefore).toMatch(/^rt_/);

      const attempt = (url: string, init = '{}') =>
        page.evaluate<string>(`fetch(${JSON.stringify(url)}, ${init}).then((r) => 'read ' + r.status, (e) => 'blocked: ' + e.name)`);
      expect(await attempt(`${demo.urls.fastify}/hello`, "{ credentials: 'include' }")).toBe('blocked: TypeError');
      expect(await attempt(`${demo.urls.express}/hello`, "{ credentials: 'include' }")).toBe('blocked: TypeError');
      expect(await attempt(`${demo.urls.auth}/v1/me`, "{ credentials: 'include' }")).toBe('blocked: TypeError');
      expect(serviceRequests.length).toBeGreaterThan(0);
      for (const headers of serviceRequests) expect(headers.authorization).toBeUndefined();

      // The client on this page: its JSON requests to the auth server are preflighted, and the
      // preflight refused, so no restore and no sign-in.
      const restored = await page.evaluate<string>(`(async () => {
        const { createClient } = await import('/tessera-client.js');
        const client = createClient({ issuer: ${JSON.stringify(demo.urls.auth)}, mode: 'token', crossTab: false,
          allowedOrigins: ${JSON.stringify([demo.urls.fastify, demo.urls.express])} });
        const user = await client.ready().catch((e) => 'refused: ' + e.code);
        const token = await client.accessToken().catch(() => null);
        const signIn = await client.signIn({ email: ${JSON.stringify(tokenEmail)}, password: ${JSON.stringify(PASSWORD)} })
          .then(() => 'signed in', (e) => 'refused: ' + e.code);
        return JSON.stringify({ user, token, signIn });
      })()`);
      const parsed = JSON.parse(restored) as { user: unknown; token: unknown; signIn: string };
      expect(parsed.token).toBeNull();
      expect(parsed.user === null || String(parsed.user).startsWith('refused')).toBe(true);
      expect(parsed.signIn).toMatch(/^refused: (network_error|invalid_origin)$/);

      // Refresh CSRF: a "simple" form POST needs no preflight, so it reaches the server with the
      // Strict refresh cookie (same site): the server refuses it by its Origin, and rotates nothing.
      const refreshAnswer = page.waitForResponse((r) => r.url() === `${demo.urls.auth}/v1/token` && r.request().method() === 'POST');
      await page.evaluate(`fetch(${JSON.stringify(`${demo.urls.auth}/v1/token`)}, {
        method: 'POST', mode: 'no-cors', credentials: 'include',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token' }),
      })`);
      expect((await refreshAnswer).status()).toBe(403);
      // Not rotated: the user's own tab keeps its session.
      const refreshAfter = (await tokenContext.cookies(`${demo.urls.auth}/v1/token`)).find((c) => c.name === 'tessera_refresh')?.value;
      expect(refreshAfter).toBe(refreshBefore);
      await screenshot(page, 'demo-5-foreign-origin');
      await page.close();
    });

    it('cannot spend the session cookie: the auth server refuses the cookie-authenticated change', async () => {
      const page = await cookieContext.newPage();
      await page.goto(`${foreign.origin}/`);
      // A "simple" cross-origin POST needs no preflight, so it reaches the server with the cookie:
      // the server must refuse it by its Origin (CSRF), not change the password.
      const changed = page.waitForResponse((r) => r.url() === `${demo.urls.auth}/v1/me/password`);
      await page.evaluate(`fetch(${JSON.stringify(`${demo.urls.auth}/v1/me/password`)}, {
        method: 'POST', mode: 'no-cors', credentials: 'include',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ current_password: ${JSON.stringify(PASSWORD)}, new_password: 'an entirely different passphrase' }),
      })`);
      expect((await changed).status()).toBe(403);
      // Preflighted: the browser does not even send it.
      expect(
        await page.evaluate<string>(
          `fetch(${JSON.stringify(`${demo.urls.auth}/v1/sessions`)}, { method: 'DELETE', credentials: 'include' }).then(() => 'sent', (e) => 'blocked: ' + e.name)`,
        ),
      ).toBe('blocked: TypeError');
      await page.close();
      // The session is intact and the password unchanged.
      const { me } = await call(cookiePage, '#call-me', ['me']);
      expect(me?.outcome).toBe('ok');
      const login = await fetch(`${demo.urls.auth}/v1/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'password', username: cookieEmail, password: PASSWORD }),
      });
      expect(login.status).toBe(200);
    });
  });

  describe('the auth server stopped, then started again', () => {
    it('stopped: the services keep answering token requests; cookie requests to the auth server fail', async () => {
      await tokenPage.click('#auth-stop');
      await tokenPage.waitForFunction("document.body.dataset.auth === 'stopped'", null, { timeout: 15_000 });
      expect((await fetch(`${demo.urls.auth}/healthz`).catch(() => null))?.status).toBeUndefined();

      const services = await call(tokenPage, '#call-both', ['fastify', 'express']);
      expect(services.fastify?.outcome).toBe('ok');
      expect(services.express?.outcome).toBe('ok');
      const tokenMe = await call(tokenPage, '#call-me', ['me']);
      expect(tokenMe.me?.outcome).toBe('unreachable');
      await tokenPage.waitForFunction("document.getElementById('feed-fastify').textContent.includes('feed down')", null, {
        timeout: 10_000,
      });
      await screenshot(tokenPage, 'demo-6-outage-token');

      await cookiePage.waitForFunction("document.body.dataset.auth === 'stopped'", null, { timeout: 5_000 });
      const { me } = await call(cookiePage, '#call-me', ['me']);
      expect(me?.outcome).toBe('unreachable');
      await screenshot(cookiePage, 'demo-7-outage-cookie');
    });

    it('started again: cookie requests work again, and so does everything else', async () => {
      await cookiePage.click('#auth-start');
      await cookiePage.waitForFunction("document.body.dataset.auth === 'running'", null, { timeout: 30_000 });
      const { me } = await call(cookiePage, '#call-me', ['me']);
      expect(me?.outcome).toBe('ok');
      expect(me?.text).toContain('"auth": "session"');

      const services = await call(tokenPage, '#call-both', ['fastify', 'express']);
      expect(services.fastify?.outcome).toBe('ok');
      expect(services.express?.outcome).toBe('ok');
      const tokenMe = await call(tokenPage, '#call-me', ['me']);
      expect(tokenMe.me?.outcome).toBe('ok');
      // The feeds reconnect (with catch-up), so a logout reaches the services again.
      await tokenPage.waitForFunction("document.getElementById('feed-express').textContent.includes('feed live')", null, {
        timeout: 10_000,
      });
      await screenshot(tokenPage, 'demo-8-restarted');
    });

    // A page that polls while another tab's stop is under way sees "stopping": it must go on to
    // show the state the stop or start ends in, not stay on "stopping".
    it('a stop seen half-way from another tab shows as stopping, then as the state it ends in', async () => {
      let halfWay = true;
      await cookiePage.route('**/control/auth', (route) =>
        halfWay ? route.fulfill({ status: 200, contentType: 'application/json', body: '{"state":"stopping"}' }) : route.continue(),
      );
      try {
        await cookiePage.waitForFunction("document.body.dataset.auth === 'stopping'", null, { timeout: 15_000 });
        halfWay = false;
        await cookiePage.waitForFunction("document.body.dataset.auth === 'running'", null, { timeout: 15_000 });
      } finally {
        await cookiePage.unroute('**/control/auth');
      }
    });

    it('a second demo on a taken port fails at once, naming the port, and leaves the first alone', async () => {
      const taken = Number(new URL(demo.urls.auth).port);
      const [appPort, fastifyPort, expressPort] = await Promise.all([freePort(), freePort(), freePort()]);
      const second = startDemo({ authPort: taken, appPort, fastifyPort, expressPort, dataDir: tempDir('tessera-demo-') });
      await expect(second).rejects.toThrow(PortInUseError);
      await expect(second).rejects.toThrow(`port ${taken} (auth server) is already in use`);
      expect((await fetch(`${demo.urls.auth}/healthz`)).status).toBe(200);
    });

    it('the control endpoint refuses any origin but the app’s own', async () => {
      const refused: Record<string, string>[] = [{}, { origin: foreign.origin }, { origin: demo.urls.app, 'sec-fetch-site': 'same-site' }];
      for (const headers of refused) {
        const res = await fetch(`${demo.urls.app}/control/auth/stop`, { method: 'POST', headers });
        expect(res.status).toBe(403);
        expect(await res.json()).toMatchObject({ error: 'invalid_origin' });
      }
      expect(await (await fetch(`${demo.urls.app}/control/auth`)).json()).toEqual({ state: 'running' });
    });
  });
});
