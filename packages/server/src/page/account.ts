// The account page: sign up and sign in (tokens or a cookie session), the decoded access token,
// the devices signed in, and a password change, on @tessera/client. Served by the auth server
// itself under a strict CSP (scripts and styles from this origin only, nothing inline).
import { createClient, type TesseraClient, type User } from '@tessera/client';
import { api, failureOf } from './api.js';
import { type AuthActions, AuthForms, type Mode } from './auth-forms.js';
import { DevicesPanel } from './devices-panel.js';
import { byId, h } from './dom.js';
import { dateTime } from './format.js';
import { explain } from './messages.js';
import { Notice } from './notice.js';
import { PasswordPanel } from './password-panel.js';
import { addPasswordToggles } from './password-toggle.js';
import { TokenPanel } from './token-panel.js';

const MODE_NAMES: Record<Mode, string> = { token: 'Tokens (JWT)', cookie: 'Cookie session' };

/** The page's one state: which client is signed in, if any. */
class AccountPage {
  readonly #clients: Record<Mode, TesseraClient>;
  readonly #forms: AuthForms;
  readonly #token = new TokenPanel();
  readonly #devices: DevicesPanel;
  readonly #password: PasswordPanel;
  readonly #accountNotice = new Notice(byId('account-notice'));
  #active: TesseraClient | null = null;
  /** What to tell the user when the sign-out under way completes (null: the session ended by itself). */
  #farewell: string | null = null;

  constructor() {
    const issuer = location.origin;
    this.#clients = { token: createClient({ issuer, mode: 'token' }), cookie: createClient({ issuer, mode: 'cookie' }) };
    const actions: AuthActions = {
      signIn: async (mode, email, password) => {
        await this.#clients[mode].signIn({ email, password });
        await this.#signedIn(this.#clients[mode]);
      },
      signUp: async (mode, input) => {
        await this.#clients[mode].signUp(input);
        await this.#signedIn(this.#clients[mode]);
      },
    };
    this.#forms = new AuthForms(actions);
    this.#devices = new DevicesPanel(() => this.#signOut('everywhere'));
    this.#password = new PasswordPanel(() => this.#devices.load(this.#active));
    for (const client of Object.values(this.#clients)) {
      client.on('change', (user, reason) => this.#onChange(client, user, reason));
    }
    byId('sign-out', HTMLButtonElement).addEventListener('click', () => {
      void this.#signOut('here').catch((err: unknown) => this.#accountNotice.error(explain(failureOf(err), 'sign-out')));
    });
    // Back to the tab: the list may have changed, and a session revoked elsewhere shows as signed out.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.#active) void this.#refreshViews();
    });
    addPasswordToggles();
  }

  /** Restores the session a reload left, in the mode last chosen first. */
  async start(): Promise<void> {
    const preferred = this.#forms.mode();
    const order: Mode[] = preferred === 'token' ? ['token', 'cookie'] : ['cookie', 'token'];
    const results = await Promise.allSettled(order.map((mode) => this.#clients[mode].ready()));
    const index = results.findIndex((r) => r.status === 'fulfilled' && r.value !== null);
    const restored = index === -1 ? undefined : order[index];
    if (restored) {
      await this.#activate(this.#clients[restored]);
    } else {
      this.#showSignedOut();
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        const retry = h('button', { type: 'button', class: 'button link' }, 'Try again');
        retry.addEventListener('click', () => location.reload());
        this.#forms.notice.error(explain(failureOf(failed.reason), 'restore'), retry);
      }
    }
    byId('loading').hidden = true;
    document.body.dataset.ready = 'true';
  }

  #onChange(client: TesseraClient, user: User | null, reason: string): void {
    if (reason === 'signed-out') {
      if (this.#active !== client) return;
      const farewell = this.#farewell;
      this.#farewell = null;
      this.#showSignedOut();
      this.#forms.notice.say(farewell ?? 'Your session has ended. Please sign in again.', farewell ? 'success' : 'info');
      byId('auth-title').focus();
    } else if (reason === 'signed-in' && user && !this.#active) {
      // Signed in in another tab of this browser.
      void this.#activate(client);
    } else if (reason === 'refreshed' && this.#active === client) {
      this.#renderUser(client);
      void this.#token.show(client);
    }
  }

  /** After a sign-in or sign-up from the form: the account view, with focus on its heading. */
  async #signedIn(client: TesseraClient): Promise<void> {
    await this.#activate(client);
    byId('welcome').focus();
  }

  async #activate(client: TesseraClient): Promise<void> {
    if (this.#active === client) return;
    this.#active = client;
    this.#forms.reset();
    this.#accountNotice.clear();
    this.#devices.notice.clear();
    this.#renderUser(client);
    byId('signed-out').hidden = true;
    byId('signed-in').hidden = false;
    byId('account-menu').hidden = false;
    document.body.dataset.state = 'signed-in';
    document.body.dataset.mode = client.mode;
    document.title = 'Your account · Tessera';
    this.#password.use(client);
    await this.#refreshViews();
  }

  async #refreshViews(): Promise<void> {
    const client = this.#active;
    await Promise.all([this.#token.show(client), this.#devices.load(client), this.#showCookieSession(client)]);
  }

  #renderUser(client: TesseraClient): void {
    const user = client.user();
    const who = user?.email ?? user?.name ?? 'your account';
    byId('welcome').textContent = user?.name ? `Welcome, ${user.name}` : 'Your account';
    byId('whoami').textContent = `Signed in as ${who}`;
    byId('account-email').textContent = who;
    const badge = byId('mode-badge');
    badge.textContent = MODE_NAMES[client.mode];
    badge.dataset.mode = client.mode;
  }

  /** Cookie mode's card: when this session began and when it ends. */
  async #showCookieSession(client: TesseraClient | null): Promise<void> {
    const card = byId('cookie-card');
    card.hidden = client?.mode !== 'cookie';
    if (client?.mode !== 'cookie') return;
    try {
      const current = await api<{ created_at: string; expires_at: string }>(client, 'GET', '/v1/sessions/current');
      byId('cookie-created').textContent = dateTime(Date.parse(current.created_at));
      byId('cookie-expires').textContent = dateTime(Date.parse(current.expires_at));
    } catch {
      // The devices card reports what went wrong; these two facts just stay blank.
    }
  }

  #showSignedOut(): void {
    this.#active = null;
    this.#password.use(null);
    void this.#token.show(null);
    void this.#devices.load(null);
    this.#forms.reset();
    this.#forms.showForm('sign-in', false);
    byId('signed-in').hidden = true;
    byId('cookie-card').hidden = true;
    byId('account-menu').hidden = true;
    byId('signed-out').hidden = false;
    document.body.dataset.state = 'signed-out';
    delete document.body.dataset.mode;
  }

  async #signOut(where: 'here' | 'everywhere'): Promise<void> {
    const client = this.#active;
    if (!client) return;
    this.#farewell = where === 'here' ? 'You are signed out.' : 'You were signed out on every device.';
    try {
      await (where === 'here' ? client.signOut() : client.signOutEverywhere());
    } catch (err) {
      this.#farewell = null;
      throw err;
    }
  }
}

document.addEventListener('DOMContentLoaded', () => {
  void new AccountPage().start();
});
