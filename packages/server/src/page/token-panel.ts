import type { TesseraClient } from '@tessera/client';
import { failureOf } from './api.js';
import { byId, h, whileBusy } from './dom.js';
import { bytes, countdown, dateTime } from './format.js';
import { budgets, decodeToken, isEncrypted } from './jwt.js';
import { explain } from './messages.js';
import { Notice } from './notice.js';

/** What the well-known header parameters and claims mean, for people reading them. */
const MEANINGS: Record<string, string> = {
  alg: 'signature algorithm',
  kid: 'signing key id',
  typ: 'token type',
  iss: 'issuer',
  sub: 'subject: your user id',
  aud: 'audience: who may accept it',
  exp: 'expires',
  iat: 'issued',
  nbf: 'not valid before',
  jti: 'token id',
  sid: 'session id',
  client_id: 'client',
  scope: 'scopes',
  email: 'email',
  name: 'name',
  roles: 'roles',
};
const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf', 'auth_time']);

/**
 * Token mode's card: the access token decoded (header and claims), its expiry counting down, and
 * its size against a cookie's and a request header's limits.
 */
export class TokenPanel {
  readonly #card = byId('token-card');
  readonly #notice = new Notice(byId('token-notice'));
  #client: TesseraClient | null = null;
  #expiresAt = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    const button = byId('refresh-token', HTMLButtonElement);
    button.addEventListener('click', async () => {
      const client = this.#client;
      if (!client) return;
      this.#notice.clear();
      try {
        const before = await client.accessToken();
        // The `change` event ('refreshed') redraws the card with the new token.
        await whileBusy(button, 'Refreshing…', () => client.refresh());
        // A refresh asked for just after another one (here or in another tab) shares its result.
        if ((await client.accessToken()) === before) {
          this.#notice.say('This access token was issued a moment ago: it is already the newest one.', 'info');
        } else {
          this.#notice.say('A new access token was issued; the old one stays valid until it expires.', 'success');
        }
      } catch (err) {
        this.#notice.error(explain(failureOf(err), 'restore'));
      }
    });
  }

  /** Shows the client's current token (token mode), or hides the card (cookie mode, signed out). */
  async show(client: TesseraClient | null): Promise<void> {
    this.#client = client;
    clearInterval(this.#timer);
    if (client?.mode !== 'token') {
      this.#card.hidden = true;
      this.#notice.clear();
      return;
    }
    const token = await client.accessToken().catch(() => null);
    // Signed out (or switched) while the token was on its way.
    if (this.#client !== client) return;
    this.#card.hidden = false;
    if (!token) return;
    this.#render(token);
  }

  #render(token: string): void {
    const decoded = decodeToken(token);
    byId('token-size').textContent = bytes(token.length);
    this.#renderBudgets(token);
    const header = byId('token-header');
    const claims = byId('token-claims');
    if (!decoded) {
      const why = isEncrypted(token)
        ? 'This access token is encrypted (JWE): only the services it is meant for can read its claims.'
        : 'This access token is not a JWT the page can read.';
      header.replaceChildren();
      claims.replaceChildren(h('p', { class: 'muted' }, why));
      byId('token-countdown').textContent = '–';
      byId('token-expiry').textContent = '';
      return;
    }
    header.replaceChildren(...rows(decoded.header));
    claims.replaceChildren(...rows(decoded.claims));
    const exp = decoded.claims.exp;
    this.#expiresAt = typeof exp === 'number' ? exp * 1000 : 0;
    byId('token-expiry').textContent = this.#expiresAt ? `at ${dateTime(this.#expiresAt)} · renewed automatically` : '';
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), 1000);
  }

  #tick(): void {
    const el = byId('token-countdown');
    if (!this.#expiresAt) {
      el.textContent = '–';
      return;
    }
    const left = this.#expiresAt - Date.now();
    el.textContent = left > 0 ? countdown(left) : 'expired';
    el.dataset.urgent = String(left < 60_000);
  }

  #renderBudgets(token: string): void {
    const list = budgets(token).map((b) => {
      const percent = Math.round(b.ratio * 100);
      const bar = h('span', { class: 'meter-fill' });
      // CSSOM, not a style attribute: the CSP forbids inline styles, not script-set properties.
      bar.style.width = `${Math.min(100, b.ratio * 100)}%`;
      const level = b.ratio > 1 ? 'over' : b.ratio > 0.75 ? 'high' : 'ok';
      const label = `${bytes(b.used)} of ${bytes(b.limit)} in ${b.label} (${percent}%)`;
      return h(
        'div',
        { class: 'budget' },
        h('span', { class: 'budget-label' }, `In ${b.label}`, h('span', { class: 'budget-numbers' }, `${percent}% of ${bytes(b.limit)}`)),
        h(
          'span',
          {
            class: 'meter',
            role: 'meter',
            'aria-label': `Size in ${b.label}`,
            'aria-valuemin': 0,
            'aria-valuemax': b.limit,
            'aria-valuenow': b.used,
            'aria-valuetext': label,
            'data-level': level,
          },
          bar,
        ),
      );
    });
    byId('token-budgets').replaceChildren(...list);
  }
}

/** A `<dt>`/`<dd>` pair per member, in the token's order, with what it means and times as dates. */
function rows(record: Record<string, unknown>): HTMLElement[] {
  return Object.entries(record).map(([name, value]) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const meaning = MEANINGS[name];
    const note = TIME_CLAIMS.has(name) && typeof value === 'number' ? dateTime(value * 1000) : null;
    return h(
      'div',
      { class: 'claim' },
      h('dt', {}, h('code', {}, name), meaning ? h('span', { class: 'claim-meaning' }, meaning) : null),
      h('dd', {}, h('code', {}, text), note ? h('span', { class: 'claim-note' }, note) : null),
    );
  });
}
