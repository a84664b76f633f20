// Five tabs of one profile, token mode: the failure users of other systems report most (two tabs
// refresh at once, the second trips reuse detection, the user is logged out) must not happen,
// and a sign-out in one tab reaches every tab at once.
import { writeFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, uniqueEmail } from '../lib/http.js';
import {
  browserAvailable,
  metric,
  openApp,
  SCREENSHOTS,
  type Stack,
  screenshot,
  shownState,
  startStack,
  waitForState,
} from './lib/harness.js';

const TABS = 5;
const ROUNDS = 20;
/** Between rounds, longer than the client's join window (500 ms), so every round is a refresh of its own. */
const ROUND_GAP_MS = 700;

const ROTATED = 'tessera_refreshes_total{result="rotated"}';
const GRACE = 'tessera_refreshes_total{result="grace"}';
const REUSE = 'tessera_refresh_reuse_detected_total';

/** What `window.app.refreshAt` resolves with in each tab. */
interface RefreshResult {
  started: number;
  token: string | null;
}

describe.skipIf(!browserAvailable)('browser: five tabs', () => {
  let stack: Stack;
  let context: BrowserContext;
  const tabs: Page[] = [];
  /** Refresh requests the browser sent, all tabs together. */
  let refreshRequests = 0;

  beforeAll(async () => {
    stack = await startStack();
    context = await stack.browser.newContext();
    context.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/v1/token')) refreshRequests += 1;
    });
    const first = await context.newPage();
    await openApp(first, stack.pageUrl('token'));
    await first.fill('input[name=email]', uniqueEmail('five-tabs'));
    await first.fill('input[name=password]', PASSWORD);
    await first.click('#sign-up');
    await waitForState(first, 'signed-in');
    tabs.push(first);
    for (let i = 1; i < TABS; i += 1) {
      const page = await context.newPage();
      await openApp(page, stack.pageUrl('token'));
      tabs.push(page);
    }
  });
  afterAll(async () => {
    await context?.close();
    await stack?.close();
  });

  it('every tab opens signed in, from the first tab (or the refresh cookie)', async () => {
    for (const page of tabs) expect(await shownState(page)).toBe('signed-in');
    await screenshot(tabs[TABS - 1] as Page, 'tabs-1-fifth-tab-signed-in');
  });

  it(`${TABS} tabs refreshing at the same instant, ${ROUNDS} rounds: all stay signed in, one rotation per round, no reuse`, async () => {
    const reuseBefore = await metric(stack.auth, REUSE);
    const rounds: { rotations: number; grace: number; requests: number; spreadMs: number }[] = [];
    let previous: string | null = null;
    for (let round = 0; round < ROUNDS; round += 1) {
      const rotatedBefore = await metric(stack.auth, ROTATED);
      const graceBefore = await metric(stack.auth, GRACE);
      const requestsBefore = refreshRequests;
      // One instant for every tab, a little ahead so each has its timer set before it comes.
      const at = Date.now() + 200;
      const results = await Promise.all(tabs.map((page) => page.evaluate<RefreshResult>(`window.app.refreshAt(${at})`)));
      const tokens = new Set(results.map((r) => r.token));
      expect(tokens.size, `round ${round}: every tab holds the same access token`).toBe(1);
      const [token] = [...tokens];
      expect(token).toBeTypeOf('string');
      expect(token).not.toBe(previous);
      previous = token ?? null;
      const starts = results.map((r) => r.started);
      rounds.push({
        rotations: (await metric(stack.auth, ROTATED)) - rotatedBefore,
        grace: (await metric(stack.auth, GRACE)) - graceBefore,
        requests: refreshRequests - requestsBefore,
        spreadMs: Math.max(...starts) - Math.min(...starts),
      });
      for (const page of tabs) expect(await shownState(page)).toBe('signed-in');
      await new Promise((resolve) => setTimeout(resolve, ROUND_GAP_MS));
    }
    const reuse = (await metric(stack.auth, REUSE)) - reuseBefore;
    const figures = {
      tabs: TABS,
      rounds: rounds.length,
      rotationsPerRound: rounds.map((r) => r.rotations),
      refreshRequestsPerRound: rounds.map((r) => r.requests),
      graceAnswers: rounds.reduce((n, r) => n + r.grace, 0),
      reuseDetections: reuse,
      maxStartSpreadMs: Math.max(...rounds.map((r) => r.spreadMs)),
    };
    // Plain text beside the screenshots: the linter checks every JSON file, even git-ignored ones.
    const lines = Object.entries(figures).map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(' ') : value}`);
    writeFileSync(`${SCREENSHOTS}five-tabs.txt`, `${lines.join('\n')}\n`);
    console.log('five tabs:', JSON.stringify(figures));
    expect(reuse).toBe(0);
    expect(figures.rotationsPerRound).toEqual(Array(ROUNDS).fill(1));
    expect(figures.refreshRequestsPerRound).toEqual(Array(ROUNDS).fill(1));
    // The family is still live: the last access token works at the auth server.
    const me = await fetch(`${stack.auth.base}/v1/me`, { headers: { authorization: `Bearer ${previous}` } });
    expect(me.status).toBe(200);
    await screenshot(tabs[2] as Page, 'tabs-2-after-20-rounds');
  });

  // The control: the same five tabs with coordination off. The server's grace window keeps them
  // signed in (no reuse detection), but every tab sends its own refresh: what the lock saves.
  it('control: without cross-tab coordination each tab sends its own refresh (the grace window absorbs them)', async () => {
    const alone = await stack.browser.newContext();
    let requests = 0;
    alone.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/v1/token')) requests += 1;
    });
    try {
      const pages: Page[] = [];
      const first = await alone.newPage();
      await openApp(first, stack.pageUrl('token', '&crossTab=false'));
      await first.fill('input[name=email]', uniqueEmail('five-tabs-control'));
      await first.fill('input[name=password]', PASSWORD);
      await first.click('#sign-up');
      await waitForState(first, 'signed-in');
      pages.push(first);
      for (let i = 1; i < TABS; i += 1) {
        const page = await alone.newPage();
        await openApp(page, stack.pageUrl('token', '&crossTab=false'));
        pages.push(page);
      }
      const reuseBefore = await metric(stack.auth, REUSE);
      const perRound: number[] = [];
      for (let round = 0; round < 3; round += 1) {
        const before = requests;
        const at = Date.now() + 200;
        await Promise.all(pages.map((page) => page.evaluate<RefreshResult>(`window.app.refreshAt(${at})`)));
        perRound.push(requests - before);
      }
      console.log('control, refresh requests per round without coordination:', perRound.join(', '));
      expect(perRound.every((n) => n > 1)).toBe(true);
      expect((await metric(stack.auth, REUSE)) - reuseBefore).toBe(0);
      for (const page of pages) expect(await shownState(page)).toBe('signed-in');
    } finally {
      await alone.close();
    }
  });

  it('sign-out in one tab: every tab shows signed-out within 1 s, and the old access token is refused', async () => {
    const token = await (tabs[0] as Page).evaluate<string | null>('window.app.client.accessToken()');
    await (tabs[0] as Page).click('#sign-out');
    await Promise.all(tabs.map((page) => waitForState(page, 'signed-out')));
    const clickedAt = await (tabs[0] as Page).evaluate<number>('window.app.signOutClickedAt');
    const seen = await Promise.all(tabs.map((page) => page.evaluate<number>('window.app.signedOutAt.at(-1) ?? 0')));
    const slowest = Math.max(...seen) - clickedAt;
    console.log('sign-out reached every tab in', slowest, 'ms');
    expect(slowest).toBeLessThan(1_000);
    const me = await fetch(`${stack.auth.base}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(401);
    for (const [i, page] of tabs.entries()) await screenshot(page, `tabs-3-signed-out-tab-${i + 1}`);
  });
});
