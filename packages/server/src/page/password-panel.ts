import type { TesseraClient } from '@tessera/client';
import { api, failureOf } from './api.js';
import { byId, clearInvalid, markInvalid, whileBusy } from './dom.js';
import { explain } from './messages.js';
import { Notice } from './notice.js';
import { hidePasswords } from './password-toggle.js';

/**
 * The change-password form. The server revokes every other session of the user on success; the
 * page says so and lists the devices again.
 */
export class PasswordPanel {
  readonly #form = byId('password-form', HTMLFormElement);
  readonly #notice = new Notice(byId('password-notice'));
  #client: TesseraClient | null = null;

  /** `changed` runs after a successful change (the page reloads the device list). */
  constructor(changed: () => Promise<void>) {
    this.#form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const client = this.#client;
      if (!client) return;
      const current = byId('current-password', HTMLInputElement);
      const next = byId('new-password', HTMLInputElement);
      const button = byId('change-password', HTMLButtonElement);
      this.#notice.clear();
      clearInvalid(this.#form, byId('password-notice'));
      try {
        await whileBusy(button, 'Changing…', () =>
          api(client, 'POST', '/v1/me/password', { current_password: current.value, new_password: next.value }),
        );
        this.reset();
        this.#notice.say('Your password was changed. Every other device was signed out; this one stays signed in.', 'success');
        await changed();
      } catch (err) {
        const explained = explain(failureOf(err), 'password');
        this.#notice.error(explained);
        const field = explained.field === 'current_password' ? current : explained.field === 'new_password' ? next : null;
        if (field) {
          markInvalid(field, byId('password-notice'));
          field.focus();
          field.select();
        }
      }
    });
  }

  /** Binds the form to the signed-in client (null: signed out). */
  use(client: TesseraClient | null): void {
    this.#client = client;
    if (!client) {
      this.reset();
      this.#notice.clear();
    }
  }

  reset(): void {
    this.#form.reset();
    clearInvalid(this.#form, byId('password-notice'));
    hidePasswords(this.#form);
  }
}
