// The account page the auth server serves at `/`, in real Chromium: sign-up and sign-in in both
// modes, a reload that stays signed in, errors next to the form that caused them, the decoded
// token and its size, sessions as devices with sign-out of one, of the others and everywhere, a
// password change that signs the other devices out, a phone-sized screen, and keyboard-only use.
// Every state is saved in e2e/browser/screenshots/account-*.png for a person to look at.
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, uniqueEmail } from '../lib/http.js';
import { type AuthServer, cleanUp, startAuthServer } from '../lib/processes.js';
import { browserAvailable, CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, screenshot, shownState } from './lib/harness.js';

const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const FIREFOX_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
const NEW_PASSWORD = 'a different horse, battery and staple';
/** In the server's blocklist of common passwords, and long enough to pass the page's own length check. */
const COMMON_PASSWORD = 'qwerty123456';

// The page's CSP has no 'unsafe-eval', so Playwright's string predicates (`waitForFunction`,
// which compiles them in the page) are refused there: these waits poll `evaluate` (run by the
// DevTools protocol, outside the CSP) or use selectors instead.

/** Polls a page-side expression until it is truthy. */
async function until(page: Page, expression: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate<boolean>(`Boolean(${expression})`))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A modal's backdrop covers the viewport only: its screenshot is of the viewport, not the full page. */
async function viewportShot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png` });
}

/** Waits until the page shows `state`. */
async function waitForState(page: Page, state: 'signed-in' | 'signed-out'): Promise<void> {
  await page.locator(`body[data-state=${state}]`).waitFor({ state: 'attached' });
}

describe.skipIf(!browserAvailable)('browser: the account page', () => {
  let auth: AuthServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // Every sign-up here comes from 127.0.0.1: the per-address sign-up limit is not what is tested.
    auth = await startAuthServer({ env: { TESSERA_DATABASE_URL: 'memory:', TESSERA_SIGNUPS_PER_HOUR: '1000' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await cleanUp();
  });

  /** A fresh browser profile (its own cookies): one "device". Console errors are kept for the CSP check. */
  async function device(options: { userAgent?: string; viewport?: { width: number; height: number } } = {}) {
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 860 }, userAgent: options.userAgent });
    contexts.push(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (err) => errors.push(err.message));
    return { context, page, errors };
  }

  /** Opens the page and waits until it has restored the session, or found none. */
  async function open(page: Page) {
    await page.goto(`${auth.base}/`);
    await page.locator('body[data-ready=true]').waitFor({ state: 'attached' });
  }

  async function chooseMode(page: Page, mode: 'token' | 'cookie') {
    await page.check(`input[name=mode][value=${mode}]`);
  }

  async function signUp(page: Page, email: string, mode: 'token' | 'cookie', name?: string) {
    await chooseMode(page, mode);
    await page.click('#show-sign-up');
    if (name) await page.fill('#sign-up-name', name);
    await page.fill('#sign-up-email', email);
    await page.fill('#sign-up-password', PASSWORD);
    await page.click('#sign-up');
  }

  async function signIn(page: Page, email: string, password: string, mode: 'token' | 'cookie' = 'token') {
    await chooseMode(page, mode);
    await page.click('#show-sign-in');
    await page.fill('#sign-in-email', email);
    await page.fill('#sign-in-password', password);
    await page.click('#sign-in');
  }

  /** The error (or success) shown in a message region, once there is one. */
  async function notice(page: Page, id: string, tone: 'error' | 'success' | 'info' = 'error'): Promise<string> {
    const region = page.locator(`#${id}[data-tone=${tone}]`);
    await region.waitFor();
    return (await region.textContent()) ?? '';
  }

  async function deviceRows(page: Page) {
    return page.$$eval('#devices > li', (items) =>
      items.map((li) => ({
        current: li.getAttribute('data-current') === 'true',
        name: li.querySelector('.device-name span')?.textContent ?? '',
        text: li.textContent ?? '',
      })),
    );
  }

  /** Reloads the device list the way a returning user does: coming back to the tab. */
  async function reloadDevices(page: Page, count: number) {
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))");
    await until(page, `document.querySelectorAll('#devices > li').length === ${count}`);
  }

  async function confirmDialog(page: Page, shot: string) {
    await page.locator('#confirm[open]').waitFor();
    // Focus starts on Cancel, the safe choice.
    expect(await page.evaluate('document.activeElement?.id')).toBe('confirm-cancel');
    await viewportShot(page, shot);
    await page.click('#confirm-ok');
  }

  describe('token mode, with two more devices', () => {
    const email = uniqueEmail('page-token');
    let me: Awaited<ReturnType<typeof device>>;

    it('serves a page with no CSP violation or script error, signed out at first', async () => {
      me = await device();
      const res = await me.page.goto(`${auth.base}/`);
      expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
      await me.page.locator('body[data-ready=true]').waitFor({ state: 'attached' });
      expect(await shownState(me.page)).toBe('signed-out');
      expect(await me.page.isVisible('#sign-in-form')).toBe(true);
      // One form at a time, and nothing of the signed-in view.
      for (const hidden of ['#sign-up-form', '#account-menu', '#signed-in', '#loading']) {
        expect(await me.page.isVisible(hidden), hidden).toBe(false);
      }
      await screenshot(me.page, 'account-01-signed-out');
      await me.page.click('#show-sign-up');
      expect(await me.page.textContent('#auth-title')).toBe('Create your account');
      expect(await me.page.isVisible('#sign-in-form')).toBe(false);
      await screenshot(me.page, 'account-02-sign-up-form');
      // Restoring a session that is not there answers 401/400: the console's only complaints.
      const unexpected = me.errors.filter((e) => !/status of 40[01]/.test(e));
      expect(unexpected).toEqual([]);
    });

    it('sign-up signs in, moves focus to the account heading and shows the decoded token and its size', async () => {
      await signUp(me.page, email, 'token', 'Ada Lovelace');
      await waitForState(me.page, 'signed-in');
      expect(await me.page.evaluate('document.activeElement?.id')).toBe('welcome');
      expect(await me.page.textContent('#welcome')).toBe('Welcome, Ada Lovelace');
      expect(await me.page.textContent('#whoami')).toContain(email);
      expect(await me.page.textContent('#mode-badge')).toBe('Tokens (JWT)');
      await me.page.waitForSelector('#token-claims .claim');
      const claims = await me.page.textContent('#token-claims');
      for (const claim of ['iss', 'sub', 'exp', 'sid', email]) expect(claims).toContain(claim);
      expect(await me.page.textContent('#token-header')).toContain('at+jwt');
      expect(await me.page.textContent('#token-size')).toMatch(/^[\d,]+ bytes$/);
      expect(await me.page.textContent('#token-countdown')).toMatch(/^\d+:\d\d$/);
      const meters = await me.page.$$eval('[role=meter]', (els) =>
        els.map((el) => ({ now: Number(el.getAttribute('aria-valuenow')), max: Number(el.getAttribute('aria-valuemax')) })),
      );
      expect(meters).toHaveLength(2);
      expect(meters.map((m) => m.max)).toEqual([4096, 8192]);
      for (const m of meters) expect(m.now).toBeGreaterThan(200);
      await screenshot(me.page, 'account-03-token-signed-in');
    });

    it('a reload keeps the user signed in, through the refresh cookie', async () => {
      const refreshed = me.page.waitForResponse((r) => r.url().endsWith('/v1/token') && r.request().method() === 'POST');
      await open(me.page);
      expect((await refreshed).status()).toBe(200);
      expect(await shownState(me.page)).toBe('signed-in');
      expect(await me.page.getAttribute('body', 'data-mode')).toBe('token');
      expect(await me.page.textContent('#whoami')).toContain(email);
    });

    it('"Refresh now" gets a new access token, and the card shows it', async () => {
      await me.page.waitForSelector('#token-claims .claim');
      const before = await me.page.textContent('#token-claims');
      // A refresh within moments of the last one (the reload's) joins it instead of rotating again:
      // once the countdown has moved, the token is old enough for a refresh of its own.
      const shown = await me.page.textContent('#token-countdown');
      await until(me.page, `document.querySelector('#token-countdown')?.textContent !== ${JSON.stringify(shown)}`);
      await me.page.click('#refresh-token');
      expect(await notice(me.page, 'token-notice', 'success')).toContain('A new access token was issued');
      await until(me.page, `document.querySelector('#token-claims')?.textContent !== ${JSON.stringify(before)}`);
      expect(await me.page.textContent('#token-claims')).toContain(email);
    });

    it('lists sessions as devices, this one marked', async () => {
      const phone = await device({ userAgent: IPHONE_UA, viewport: { width: 390, height: 844 } });
      await open(phone.page);
      await signIn(phone.page, email, PASSWORD);
      await waitForState(phone.page, 'signed-in');
      await reloadDevices(me.page, 2);
      const rows = await deviceRows(me.page);
      expect(rows.filter((r) => r.current)).toEqual([expect.objectContaining({ name: 'Chrome on Linux' })]);
      expect(rows.find((r) => r.current)?.text).toContain('This device');
      expect(rows.find((r) => !r.current)?.name).toBe('Safari on iOS');
      // The current device is signed out from the header, not from the list.
      expect(await me.page.locator('#devices > li[data-current=true] button').count()).toBe(0);
      await screenshot(me.page, 'account-04-devices');
      await screenshot(phone.page, 'account-05-phone-signed-in');
    });

    it('signs one device out, after a confirmation; that device is then signed out', async () => {
      const phone = contexts.at(-1) as BrowserContext;
      const phonePage = phone.pages()[0] as Page;
      await me.page.click('#devices > li[data-current=false] button');
      await confirmDialog(me.page, 'account-06-confirm-revoke-one');
      expect(await notice(me.page, 'devices-notice', 'success')).toContain('Safari on iOS was signed out');
      await until(me.page, "document.querySelectorAll('#devices > li').length === 1");
      await screenshot(me.page, 'account-07-revoked-one');
      await open(phonePage);
      expect(await shownState(phonePage)).toBe('signed-out');
    });

    it('signs the other devices out, keeping this one', async () => {
      for (const userAgent of [IPHONE_UA, FIREFOX_UA]) {
        const other = await device({ userAgent });
        await open(other.page);
        await signIn(other.page, email, PASSWORD, userAgent === FIREFOX_UA ? 'cookie' : 'token');
        await waitForState(other.page, 'signed-in');
      }
      await reloadDevices(me.page, 3);
      expect((await deviceRows(me.page)).map((r) => r.name).sort()).toEqual(['Chrome on Linux', 'Firefox on Windows', 'Safari on iOS']);
      await screenshot(me.page, 'account-08-three-devices');
      await me.page.click('#sign-out-others');
      await confirmDialog(me.page, 'account-09-confirm-sign-out-others');
      expect(await notice(me.page, 'devices-notice', 'success')).toContain('All other devices were signed out');
      await until(me.page, "document.querySelectorAll('#devices > li').length === 1");
      expect(await me.page.isDisabled('#sign-out-others')).toBe(true);
      expect(await shownState(me.page)).toBe('signed-in');
      for (const other of contexts.slice(-2)) {
        const page = other.pages()[0] as Page;
        await open(page);
        expect(await shownState(page)).toBe('signed-out');
      }
    });

    it('changes the password: wrong and weak ones are explained, the other device is signed out, the old password fails', async () => {
      const other = await device({ userAgent: FIREFOX_UA });
      await open(other.page);
      await signIn(other.page, email, PASSWORD);
      await waitForState(other.page, 'signed-in');

      await me.page.fill('#current-password', 'not my password at all');
      await me.page.fill('#new-password', NEW_PASSWORD);
      await me.page.click('#change-password');
      expect(await notice(me.page, 'password-notice')).toContain('Your current password is wrong.');
      expect(await me.page.getAttribute('#current-password', 'aria-invalid')).toBe('true');
      expect(await me.page.evaluate('document.activeElement?.id')).toBe('current-password');
      await screenshot(me.page, 'account-10-password-wrong-current');

      await me.page.fill('#current-password', PASSWORD);
      await me.page.fill('#new-password', COMMON_PASSWORD);
      await me.page.click('#change-password');
      await until(me.page, "document.querySelector('#password-notice')?.textContent?.includes('stronger')");
      expect(await notice(me.page, 'password-notice')).toContain('Choose a stronger password: it is too common.');
      expect(await me.page.getAttribute('#new-password', 'aria-invalid')).toBe('true');

      await me.page.fill('#new-password', NEW_PASSWORD);
      await me.page.click('#change-password');
      expect(await notice(me.page, 'password-notice', 'success')).toContain('Every other device was signed out');
      expect(await me.page.inputValue('#current-password')).toBe('');
      await until(me.page, "document.querySelectorAll('#devices > li').length === 1");
      await screenshot(me.page, 'account-11-password-changed');

      await open(other.page);
      expect(await shownState(other.page)).toBe('signed-out');
      await signIn(other.page, email, PASSWORD);
      expect(await notice(other.page, 'sign-in-notice')).toContain('don’t match');
      await signIn(other.page, email, NEW_PASSWORD);
      await waitForState(other.page, 'signed-in');
    });

    it('signs out everywhere, after a confirmation, with focus and a message on the sign-in form', async () => {
      await reloadDevices(me.page, 2);
      await me.page.click('#sign-out-everywhere');
      await confirmDialog(me.page, 'account-12-confirm-everywhere');
      await waitForState(me.page, 'signed-out');
      expect(await notice(me.page, 'auth-notice', 'success')).toContain('signed out on every device');
      expect(await me.page.evaluate('document.activeElement?.id')).toBe('auth-title');
      await screenshot(me.page, 'account-13-signed-out-everywhere');
      const other = contexts.at(-1)?.pages()[0] as Page;
      await open(other);
      expect(await shownState(other)).toBe('signed-out');
      await open(me.page);
      expect(await shownState(me.page)).toBe('signed-out');
    });
  });

  describe('cookie mode', () => {
    it('sign-up signs in with a session cookie, which a reload keeps; sign-out ends it', async () => {
      const { page } = await device();
      const email = uniqueEmail('page-cookie');
      await open(page);
      await signUp(page, email, 'cookie');
      await waitForState(page, 'signed-in');
      expect(await page.getAttribute('body', 'data-mode')).toBe('cookie');
      expect(await page.textContent('#mode-badge')).toBe('Cookie session');
      expect(await page.isVisible('#token-card')).toBe(false);
      expect(await page.isVisible('#cookie-card')).toBe(true);
      await until(page, "document.querySelector('#cookie-expires')?.textContent !== '–'");
      await page.waitForSelector('#devices > li[data-current=true]');
      expect(await page.textContent('#devices')).toContain('Cookie session');
      await screenshot(page, 'account-14-cookie-signed-in');

      await open(page);
      expect(await shownState(page)).toBe('signed-in');
      expect(await page.getAttribute('body', 'data-mode')).toBe('cookie');
      await page.click('#sign-out');
      await waitForState(page, 'signed-out');
      expect(await notice(page, 'auth-notice', 'success')).toContain('You are signed out.');
      await open(page);
      expect(await shownState(page)).toBe('signed-out');
    });
  });

  describe('errors, next to the form that caused them', () => {
    it('a wrong password: an error in the sign-in form, the field marked and focused', async () => {
      const { page } = await device();
      const email = uniqueEmail('page-wrong');
      await open(page);
      await signUp(page, email, 'cookie');
      await waitForState(page, 'signed-in');
      await page.click('#sign-out');
      await waitForState(page, 'signed-out');
      for (const mode of ['cookie', 'token'] as const) {
        await signIn(page, email, 'this is not the password', mode);
        const text = await notice(page, 'sign-in-notice');
        expect(text).toContain('That email and password don’t match an account.');
        // Inside the form, right under its button.
        expect(await page.locator('#sign-in-form #sign-in-notice').count()).toBe(1);
        expect(await page.getAttribute('#sign-in-notice', 'aria-live')).toBe('assertive');
        expect(await page.getAttribute('#sign-in-password', 'aria-invalid')).toBe('true');
        expect(await page.getAttribute('#sign-in-password', 'aria-describedby')).toBe('sign-in-notice');
        expect(await page.evaluate('document.activeElement?.id')).toBe('sign-in-password');
      }
      await screenshot(page, 'account-15-wrong-password');
    });

    it('throttled after repeated failures: how long to wait', async () => {
      const { page } = await device();
      const email = uniqueEmail('page-throttle');
      await open(page);
      let text = '';
      for (let i = 0; i < 12 && !text.includes('Too many attempts'); i++) {
        await signIn(page, email, `wrong password number ${i}`, 'cookie');
        text = await notice(page, 'sign-in-notice');
      }
      expect(text).toMatch(/Too many attempts\. Wait \d+ (second|minute)s?, then try again\./);
      await screenshot(page, 'account-16-throttled');
    });

    it('sign-up: a common password gets the server’s reason; a taken email offers to sign in instead', async () => {
      const { page } = await device();
      const email = uniqueEmail('page-signup');
      await open(page);
      await page.click('#show-sign-up');
      await page.fill('#sign-up-email', email);
      await page.fill('#sign-up-password', COMMON_PASSWORD);
      await page.click('#sign-up');
      expect(await notice(page, 'sign-up-notice')).toContain('Choose a stronger password: it is too common.');
      expect(await page.getAttribute('#sign-up-password', 'aria-invalid')).toBe('true');
      // The hint stays, the reason is added.
      expect(await page.getAttribute('#sign-up-password', 'aria-describedby')).toBe('sign-up-password-hint sign-up-notice');
      await screenshot(page, 'account-17-weak-password');

      await signUp(page, email, 'token');
      await waitForState(page, 'signed-in');
      await page.click('#sign-out');
      await waitForState(page, 'signed-out');
      await signUp(page, email, 'token');
      expect(await notice(page, 'sign-up-notice')).toContain('An account with this email already exists.');
      await screenshot(page, 'account-18-email-taken');
      await page.click('#sign-up-notice button');
      expect(await page.isVisible('#sign-in-form')).toBe(true);
      expect(await page.inputValue('#sign-in-email')).toBe(email);
      expect(await page.evaluate('document.activeElement?.id')).toBe('sign-in-password');
    });
  });

  describe('usable by everyone', () => {
    it('show/hide password: a real toggle button with aria-pressed', async () => {
      const { page } = await device();
      await open(page);
      await page.fill('#sign-in-password', 'peek-a-boo secret');
      const toggle = page.locator('#sign-in-form .reveal');
      expect(await toggle.getAttribute('aria-label')).toBe('Show password');
      expect(await toggle.getAttribute('aria-pressed')).toBe('false');
      await toggle.click();
      expect(await page.getAttribute('#sign-in-password', 'type')).toBe('text');
      expect(await toggle.getAttribute('aria-pressed')).toBe('true');
      await screenshot(page, 'account-19-password-shown');
      await toggle.click();
      expect(await page.getAttribute('#sign-in-password', 'type')).toBe('password');
      expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    });

    it('keyboard only: tab to the form, sign in with Enter, focus lands on the account heading, focus always visible', async () => {
      const { page } = await device();
      const email = uniqueEmail('page-keyboard');
      await open(page);
      await signUp(page, email, 'token');
      await waitForState(page, 'signed-in');
      await page.click('#sign-out');
      await waitForState(page, 'signed-out');
      await open(page);

      const focused = () => page.evaluate<string>('document.activeElement?.id || document.activeElement?.tagName || ""');
      for (let i = 0; i < 25 && (await focused()) !== 'sign-in-email'; i++) {
        await page.keyboard.press('Tab');
        // Every stop shows where focus is.
        const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle');
        expect(outline).not.toBe('none');
      }
      expect(await focused()).toBe('sign-in-email');
      await screenshot(page, 'account-20-keyboard-focus');
      await page.keyboard.type(email);
      await page.keyboard.press('Tab');
      expect(await focused()).toBe('sign-in-password');
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press('Enter');
      await waitForState(page, 'signed-in');
      expect(await focused()).toBe('welcome');
      // And out again: focus goes to the sign-in heading.
      await page.focus('#sign-out');
      await page.keyboard.press('Enter');
      await waitForState(page, 'signed-out');
      expect(await focused()).toBe('auth-title');
    });

    it('landmarks, headings and live regions are there for screen readers', async () => {
      const { page } = await device();
      await open(page);
      const regions = await page.$$eval('.notice', (els) => els.map((el) => [el.id, el.getAttribute('aria-live')]));
      expect(regions.length).toBeGreaterThanOrEqual(6);
      for (const [id, live] of regions) expect(live, id ?? '').toMatch(/^(polite|assertive)$/);
      expect(await page.locator('main').count()).toBe(1);
      expect(await page.locator('h1:visible').count()).toBe(1);
      // Every field has a label.
      const unlabelled = await page.$$eval('input:not([type=radio])', (inputs) =>
        inputs.filter((i) => !(i as unknown as { labels: { length: number } | null }).labels?.length).map((i) => i.id),
      );
      expect(unlabelled).toEqual([]);
    });

    it('a 390×844 phone: no horizontal scroll, every tap target at least 44 px, signed out and in', async () => {
      const { page } = await device({ viewport: { width: 390, height: 844 } });
      const email = uniqueEmail('page-phone');
      const check = async (state: string) => {
        const widths = await page.evaluate<{ scroll: number; client: number }>(
          '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
        );
        expect(widths.scroll, `${state}: page wider than the screen`).toBeLessThanOrEqual(widths.client);
        const small = await page.$$eval('button, input:not([type=radio]), label.mode', (els) =>
          els
            // Shown ones only (a hidden element has no boxes).
            .filter((el) => el.getClientRects().length > 0)
            .map((el) => ({ id: el.id || el.className || el.tagName, box: el.getBoundingClientRect() }))
            .filter(({ box }) => box.height < 44 || box.width < 44)
            .map(({ id, box }) => `${id} ${Math.round(box.width)}×${Math.round(box.height)}`),
        );
        expect(small, `${state}: tap targets under 44 px`).toEqual([]);
      };
      await open(page);
      await check('signed out');
      await screenshot(page, 'account-21-phone-signed-out');
      await page.click('#show-sign-up');
      await check('sign-up form');
      await signUp(page, email, 'token');
      await waitForState(page, 'signed-in');
      await page.waitForSelector('#devices > li');
      await page.waitForSelector('#token-claims .claim');
      await check('signed in');
      await screenshot(page, 'account-22-phone-token');
      await page.click('#sign-out-everywhere');
      await page.locator('#confirm[open]').waitFor();
      await check('confirmation');
      await viewportShot(page, 'account-23-phone-confirm');
      await page.click('#confirm-cancel');
      await page.click('#sign-out');
      await waitForState(page, 'signed-out');
      await signUp(page, uniqueEmail('page-phone-cookie'), 'cookie');
      await waitForState(page, 'signed-in');
      await page.waitForSelector('#devices > li');
      await check('cookie mode');
      await screenshot(page, 'account-24-phone-cookie');
    });
  });
});
