import type { TesseraClient } from '@tessera/client';
import { api, failureOf } from './api.js';
import { confirmAction } from './confirm.js';
import { describeDevice, type SessionView } from './devices.js';
import { byId, h, whileBusy } from './dom.js';
import { dateTime, relativeTime } from './format.js';
import { icon } from './icons.js';
import { explain } from './messages.js';
import { Notice } from './notice.js';

interface SessionPage {
  sessions: SessionView[];
  next_cursor: string | null;
}

const KIND = { token: 'Tokens', cookie: 'Cookie session' } as const;

/**
 * The devices card: every session of the user as a device ("Chrome on Linux"), this one marked,
 * with sign-out of one, of the others, or everywhere, each confirmed first.
 */
export class DevicesPanel {
  readonly notice = new Notice(byId('devices-notice'));
  readonly #list = byId('devices', HTMLUListElement);
  readonly #more = byId('devices-more', HTMLButtonElement);
  readonly #others = byId('sign-out-others', HTMLButtonElement);
  #client: TesseraClient | null = null;
  #cursor: string | null = null;
  #shown: SessionView[] = [];
  /** Signs out everywhere (the page then shows the signed-out view). */
  readonly #everywhere: () => Promise<void>;

  constructor(everywhere: () => Promise<void>) {
    this.#everywhere = everywhere;
    this.#more.addEventListener('click', () => void this.#loadMore());
    this.#others.addEventListener('click', () => void this.#signOutOthers());
    const all = byId('sign-out-everywhere', HTMLButtonElement);
    all.addEventListener('click', async () => {
      const yes = await confirmAction({
        title: 'Sign out everywhere?',
        body: 'Every device signed in to your account is signed out, this one included. Anyone using your account has to sign in again.',
        confirm: 'Sign out everywhere',
      });
      if (!yes) return;
      this.notice.clear();
      try {
        await whileBusy(all, 'Signing out…', this.#everywhere);
      } catch (err) {
        this.notice.error(explain(failureOf(err), 'devices'));
      }
    });
  }

  /** Lists the devices of the signed-in user, from the first page. */
  async load(client: TesseraClient | null): Promise<void> {
    this.#client = client;
    if (!client) {
      this.#list.replaceChildren();
      this.notice.clear();
      return;
    }
    try {
      const page = await api<SessionPage>(client, 'GET', '/v1/sessions');
      if (this.#client !== client) return;
      this.#shown = page.sessions;
      this.#cursor = page.next_cursor;
      this.#render();
    } catch (err) {
      if (this.#client === client && client.user()) this.notice.error(explain(failureOf(err), 'devices'));
    }
  }

  async #loadMore(): Promise<void> {
    const client = this.#client;
    if (!client || !this.#cursor) return;
    try {
      const page = await whileBusy(this.#more, 'Loading…', () =>
        api<SessionPage>(client, 'GET', `/v1/sessions?cursor=${encodeURIComponent(this.#cursor ?? '')}`),
      );
      this.#shown = [...this.#shown, ...page.sessions];
      this.#cursor = page.next_cursor;
      this.#render();
    } catch (err) {
      this.notice.error(explain(failureOf(err), 'devices'));
    }
  }

  #render(): void {
    const now = Date.now();
    // This device first, then the others newest first (the server's order).
    const ordered = [...this.#shown].sort((a, b) => Number(b.current) - Number(a.current));
    this.#list.replaceChildren(...ordered.map((s) => this.#item(s, now)));
    this.#more.hidden = this.#cursor === null;
    const others = this.#shown.filter((s) => !s.current).length;
    const total = this.#shown.length;
    byId('devices-count').textContent = `${total}${this.#cursor ? '+' : ''} ${total === 1 && !this.#cursor ? 'session' : 'sessions'}`;
    this.#others.disabled = others === 0 && this.#cursor === null;
  }

  #item(session: SessionView, now: number): HTMLLIElement {
    const device = describeDevice(session.user_agent);
    const created = Date.parse(session.created_at);
    const seen = Date.parse(session.last_seen_at);
    const when = (at: number, words: string) => h('time', { datetime: new Date(at).toISOString(), title: dateTime(at) }, words);
    const meta = h(
      'p',
      { class: 'device-meta' },
      KIND[session.kind],
      ' · Signed in ',
      when(created, relativeTime(created, now)),
      ' · Active ',
      when(seen, relativeTime(seen, now)),
      session.ip ? ` · ${session.ip}` : null,
    );
    const name = h('p', { class: 'device-name' }, h('span', {}, device.name));
    if (session.current) name.append(h('span', { class: 'badge badge-current' }, 'This device'));
    const item = h(
      'li',
      { class: 'device', 'data-current': String(session.current), 'data-session': session.id },
      h('span', { class: 'device-icon' }, icon(device.form)),
      h('div', { class: 'device-text' }, name, meta),
    );
    if (!session.current) {
      const button = h(
        'button',
        {
          type: 'button',
          class: 'button secondary small',
          'aria-label': `Sign out ${device.name}, signed in ${relativeTime(created, now)}`,
        },
        'Sign out',
      );
      button.addEventListener('click', () => void this.#revoke(session, device.name, button));
      item.append(button);
    }
    return item;
  }

  async #revoke(session: SessionView, name: string, button: HTMLButtonElement): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const yes = await confirmAction({
      title: `Sign out ${name}?`,
      body: 'That device is signed out at once and has to sign in again to use your account.',
      confirm: 'Sign out device',
    });
    if (!yes) return;
    this.notice.clear();
    try {
      await whileBusy(button, 'Signing out…', () => api(client, 'DELETE', `/v1/sessions/${encodeURIComponent(session.id)}`));
      this.notice.say(`${name} was signed out.`, 'success');
    } catch (err) {
      this.notice.error(explain(failureOf(err), 'devices'));
    }
    await this.load(client);
    // The button is gone with its row: the list's heading is the next sensible place.
    byId('devices-title').focus();
  }

  async #signOutOthers(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const yes = await confirmAction({
      title: 'Sign out other devices?',
      body: 'Every device but this one is signed out and has to sign in again.',
      confirm: 'Sign out other devices',
    });
    if (!yes) return;
    this.notice.clear();
    try {
      const before = this.#shown.filter((s) => !s.current).length;
      await whileBusy(this.#others, 'Signing out…', () => api(client, 'DELETE', '/v1/sessions/others'));
      this.notice.say(
        before === 1 ? 'The other device was signed out.' : 'All other devices were signed out. This one stays signed in.',
        'success',
      );
    } catch (err) {
      this.notice.error(explain(failureOf(err), 'devices'));
    }
    await this.load(client);
  }
}
