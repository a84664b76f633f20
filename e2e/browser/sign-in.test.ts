// Sign-up and sign-in in real Chromium, both modes, from a page on another origin than the
// auth server; a reload keeps the user signed in; page script cannot reach the refresh token.
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, uniqueEmail } from '../lib/http.js';
import { browserAvailable, openApp, type Stack, screenshot, shownState, startStack, waitForState } from './lib/harness.js';

describe.skipIf(!browserAvailable)('browser: sign in and reload', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  async function fillAndSubmit(page: Page, email: string, button: '#sign-up' | '#sign-in') {
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', PASSWORD);
    await page.click(button);
    await waitForState(page, 'signed-in');
  }

  describe('token mode', () => {
    let context: BrowserContext;
    let page: Page;
    const email = uniqueEmail('browser-token');
    beforeAll(async () => {
      context = await stack.browser.newContext();
      page = await context.newPage();
    });
    afterAll(() => context?.close());

    it('signs up (which signs in), with the refresh token only in an HttpOnly cookie', async () => {
      await openApp(page, stack.pageUrl('token'));
      expect(await shownState(page)).toBe('signed-out');
      await screenshot(page, 'token-1-signed-out');
      const tokenResponse = page.waitForResponse((r) => r.url().endsWith('/v1/token') && r.request().method() === 'POST');
      await fillAndSubmit(page, email, '#sign-up');
      // The token response carries no refresh_token: the browser client asked for the cookie.
      const body = (await (await tokenResponse).json()) as Record<string, unknown>;
      expect(body.access_token).toBeTypeOf('string');
      expect(body).not.toHaveProperty('refresh_token');
      expect(await page.textContent('#status')).toContain(email);
      await screenshot(page, 'token-2-signed-in');

      const cookies = await context.cookies(`${stack.issuer}/v1/token`);
      const refresh = cookies.find((c) => c.name === 'tessera_refresh');
      expect(refresh).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/v1/token' });
      expect(refresh?.value).toMatch(/^rt_/);
    });

    // XSS exfiltration: script on the page looks everywhere it could for the refresh token.
    it('page script cannot read the refresh token: not in document.cookie, localStorage or sessionStorage', async () => {
      const refresh = (await context.cookies(`${stack.issuer}/v1/token`)).find((c) => c.name === 'tessera_refresh')?.value;
      expect(refresh).toBeDefined();
      const visible = await page.evaluate<string>(
        `[document.cookie, JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage })].join('\\n')`,
      );
      expect(visible).not.toContain(refresh as string);
      expect(visible).not.toContain('rt_');
    });

    it('a reload keeps the user signed in, through the refresh cookie', async () => {
      const before = (await context.cookies(`${stack.issuer}/v1/token`)).find((c) => c.name === 'tessera_refresh')?.value;
      const refreshed = page.waitForResponse((r) => r.url().endsWith('/v1/token') && r.request().method() === 'POST');
      await openApp(page, stack.pageUrl('token'));
      expect((await refreshed).status()).toBe(200);
      expect(await shownState(page)).toBe('signed-in');
      expect(await page.textContent('#status')).toContain(email);
      // Rotated on the way: the cookie holds the successor.
      const after = (await context.cookies(`${stack.issuer}/v1/token`)).find((c) => c.name === 'tessera_refresh')?.value;
      expect(after).toMatch(/^rt_/);
      expect(after).not.toBe(before);
      await page.click('#call-me');
      await page.waitForSelector('#me-result:not([hidden])');
      expect(await page.textContent('#me-result')).toContain('"auth": "jwt"');
      await screenshot(page, 'token-3-after-reload');
    });

    it('sign-out clears the cookie; a reload then stays signed out', async () => {
      await page.click('#sign-out');
      await waitForState(page, 'signed-out');
      expect((await context.cookies(`${stack.issuer}/v1/token`)).find((c) => c.name === 'tessera_refresh')).toBeUndefined();
      await openApp(page, stack.pageUrl('token'));
      expect(await shownState(page)).toBe('signed-out');
    });

    it('a wrong password shows the server error code', async () => {
      await page.fill('input[name=email]', email);
      await page.fill('input[name=password]', 'not the right password at all');
      await page.click('#sign-in');
      await page.waitForSelector('#message:not([hidden])');
      expect(await page.textContent('#message')).toContain('invalid_grant');
      await screenshot(page, 'token-4-wrong-password');
    });
  });

  describe('cookie mode', () => {
    let context: BrowserContext;
    let page: Page;
    const email = uniqueEmail('browser-cookie');
    beforeAll(async () => {
      context = await stack.browser.newContext();
      page = await context.newPage();
    });
    afterAll(() => context?.close());

    it('signs up and in with a session cookie; the CSRF token is the client’s business', async () => {
      await openApp(page, stack.pageUrl('cookie'));
      await fillAndSubmit(page, email, '#sign-up');
      expect(await page.textContent('#status')).toContain(email);
      const session = (await context.cookies(stack.issuer)).find((c) => c.name === 'tessera_session');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
      expect(await page.evaluate<string>('document.cookie')).not.toContain(session?.value as string);
      await screenshot(page, 'cookie-1-signed-in');
    });

    it('a reload keeps the user signed in, and sign-out (a CSRF-checked DELETE) works', async () => {
      await openApp(page, stack.pageUrl('cookie'));
      expect(await shownState(page)).toBe('signed-in');
      await page.click('#call-me');
      await page.waitForSelector('#me-result:not([hidden])');
      expect(await page.textContent('#me-result')).toContain('"auth": "session"');
      await screenshot(page, 'cookie-2-after-reload');
      await page.click('#sign-out');
      await waitForState(page, 'signed-out');
      await openApp(page, stack.pageUrl('cookie'));
      expect(await shownState(page)).toBe('signed-out');
    });
  });

  describe('cookie mode, two tabs', () => {
    it('a sign-in in one tab shows in the other, and so does a sign-out', async () => {
      const context = await stack.browser.newContext();
      try {
        const [a, b] = [await context.newPage(), await context.newPage()];
        await openApp(a, stack.pageUrl('cookie'));
        await openApp(b, stack.pageUrl('cookie'));
        await fillAndSubmit(a, uniqueEmail('browser-cookie-tabs'), '#sign-up');
        await waitForState(b, 'signed-in', 1_000);
        await a.click('#sign-out');
        await waitForState(b, 'signed-out', 1_000);
        await screenshot(b, 'cookie-3-other-tab-signed-out');
      } finally {
        await context.close();
      }
    });
  });

  // CORS and CSRF hold: a page on an unlisted origin of another site gets no token and cannot spend the refresh cookie.
  describe('a page on an unlisted origin', () => {
    let context: BrowserContext;
    beforeAll(async () => {
      context = await stack.browser.newContext();
    });
    afterAll(() => context?.close());

    it('cannot restore (or rotate) the session of a signed-in user, nor sign in', async () => {
      const home = await context.newPage();
      await openApp(home, stack.pageUrl('token'));
      await fillAndSubmit(home, uniqueEmail('browser-foreign'), '#sign-up');
      const cookie = async () => (await context.cookies(`${stack.issuer}/v1/token`)).find((c) => c.name === 'tessera_refresh')?.value;
      const before = await cookie();
      expect(before).toMatch(/^rt_/);

      const foreign = await context.newPage();
      await openApp(foreign, stack.foreignUrl('token'));
      expect(await shownState(foreign)).toBe('signed-out');
      expect(await foreign.evaluate<string | null>('window.app.client.accessToken()')).toBeNull();
      expect(await cookie()).toBe(before);

      await foreign.fill('input[name=email]', uniqueEmail('browser-foreign'));
      await foreign.fill('input[name=password]', PASSWORD);
      await foreign.click('#sign-up');
      await foreign.waitForSelector('#message:not([hidden])');
      expect(await foreign.textContent('#message')).toMatch(/network_error|invalid_origin/);
      expect(await shownState(foreign)).toBe('signed-out');
      await screenshot(foreign, 'foreign-origin-refused');

      // The user's own tab is untouched: it still refreshes.
      await home.evaluate('window.app.client.refresh()');
      expect(await cookie()).not.toBe(before);
      expect(await shownState(home)).toBe('signed-in');
    });
  });
});
