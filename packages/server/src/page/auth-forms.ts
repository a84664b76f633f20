import type { SignUpInput } from '@tessera/client';
import { failureOf } from './api.js';
import { byId, clearInvalid, h, markInvalid, whileBusy } from './dom.js';
import { type Action, explain } from './messages.js';
import { Notice } from './notice.js';
import { hidePasswords } from './password-toggle.js';

export type Mode = 'token' | 'cookie';

/** What the forms ask of the page: sign in or up in a mode; both reject with the server's refusal. */
export interface AuthActions {
  signIn(mode: Mode, email: string, password: string): Promise<void>;
  signUp(mode: Mode, input: SignUpInput): Promise<void>;
}

/** Where the chosen mode is remembered: a preference, not a secret. */
const MODE_KEY = 'tessera.account.mode';

const TEXT = {
  'sign-in': { title: 'Sign in', lead: 'Welcome back. Sign in to manage your account and devices.' },
  'sign-up': { title: 'Create your account', lead: 'It takes a moment. You are signed in as soon as it is created.' },
} as const;

/** The signed-out half of the page: the sign-in and sign-up forms, the mode choice, and their messages. */
export class AuthForms {
  /** Messages about the page as a whole while signed out ("You're signed out", a server that cannot be reached). */
  readonly notice = new Notice(byId('auth-notice'));
  readonly #actions: AuthActions;
  readonly #signIn = byId('sign-in-form', HTMLFormElement);
  readonly #signUp = byId('sign-up-form', HTMLFormElement);
  readonly #signInNotice = new Notice(byId('sign-in-notice'));
  readonly #signUpNotice = new Notice(byId('sign-up-notice'));

  constructor(actions: AuthActions) {
    this.#actions = actions;
    const stored = safeStorage()?.getItem(MODE_KEY);
    if (stored === 'token' || stored === 'cookie') this.#modeInput(stored).checked = true;
    for (const input of document.querySelectorAll<HTMLInputElement>('input[name=mode]')) {
      input.addEventListener('change', () => safeStorage()?.setItem(MODE_KEY, this.mode()));
    }
    byId('show-sign-in').addEventListener('click', () => this.showForm('sign-in', true));
    byId('show-sign-up').addEventListener('click', () => this.showForm('sign-up', true));
    this.#signIn.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#submitSignIn();
    });
    this.#signUp.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#submitSignUp();
    });
  }

  /** The mode the user chose (remembered across visits). */
  mode(): Mode {
    return this.#modeInput('cookie').checked ? 'cookie' : 'token';
  }

  /** Switches between the two forms; `focus` moves to the first field of the one shown. */
  showForm(which: 'sign-in' | 'sign-up', focus: boolean): void {
    const signIn = which === 'sign-in';
    this.#signIn.hidden = !signIn;
    this.#signUp.hidden = signIn;
    byId('show-sign-in').setAttribute('aria-pressed', String(signIn));
    byId('show-sign-up').setAttribute('aria-pressed', String(!signIn));
    byId('auth-title').textContent = TEXT[which].title;
    byId('auth-lead').textContent = TEXT[which].lead;
    document.title = `${TEXT[which].title} · Tessera`;
    if (focus) this.#field(signIn ? this.#signIn : this.#signUp, signIn ? 'email' : 'name').focus();
  }

  /** Resets the forms for the next visitor of this view: no password left in a field. */
  reset(): void {
    for (const form of [this.#signIn, this.#signUp]) {
      clearInvalid(form, this.#noticeOf(form));
      for (const input of form.querySelectorAll<HTMLInputElement>('input[type=password], input[name=password]')) input.value = '';
    }
    this.#signInNotice.clear();
    this.#signUpNotice.clear();
    hidePasswords(document.getElementById('signed-out') ?? document);
  }

  async #submitSignIn(): Promise<void> {
    const form = this.#signIn;
    const email = this.#field(form, 'email').value.trim();
    const password = this.#field(form, 'password').value;
    this.#signInNotice.clear();
    this.notice.clear();
    await this.#attempt(form, this.#signInNotice, 'sign-in', 'Signing in…', () => this.#actions.signIn(this.mode(), email, password));
  }

  async #submitSignUp(): Promise<void> {
    const form = this.#signUp;
    const name = this.#field(form, 'name').value.trim();
    const input: SignUpInput = { email: this.#field(form, 'email').value.trim(), password: this.#field(form, 'password').value };
    if (name) input.name = name;
    this.#signUpNotice.clear();
    this.notice.clear();
    await this.#attempt(form, this.#signUpNotice, 'sign-up', 'Creating your account…', () => this.#actions.signUp(this.mode(), input));
  }

  async #attempt(form: HTMLFormElement, notice: Notice, action: Action, busy: string, work: () => Promise<void>): Promise<void> {
    clearInvalid(form, this.#noticeOf(form));
    const button = form.querySelector<HTMLButtonElement>('button[type=submit]');
    try {
      if (button) await whileBusy(button, busy, work);
      else await work();
    } catch (err) {
      const explained = explain(failureOf(err), action);
      const offer = explained.offerSignIn ? this.#signInInstead() : undefined;
      notice.error(explained, offer);
      if (explained.field) {
        const field = form.querySelector<HTMLInputElement>(`input[name=${explained.field}]`);
        if (field) {
          markInvalid(field, this.#noticeOf(form));
          field.focus();
          field.select();
        }
      }
    }
  }

  /** "Sign in instead", after sign-up found the email taken: the sign-in form, with that email filled in. */
  #signInInstead(): HTMLButtonElement {
    const button = h('button', { type: 'button', class: 'button link' }, 'Sign in instead');
    button.addEventListener('click', () => {
      this.#field(this.#signIn, 'email').value = this.#field(this.#signUp, 'email').value;
      this.#signUpNotice.clear();
      this.showForm('sign-in', false);
      this.#field(this.#signIn, 'password').focus();
    });
    return button;
  }

  /** The form's own message region. */
  #noticeOf(form: HTMLFormElement): HTMLElement {
    return byId(form === this.#signIn ? 'sign-in-notice' : 'sign-up-notice');
  }

  #field(form: HTMLFormElement, name: string): HTMLInputElement {
    const input = form.querySelector<HTMLInputElement>(`input[name=${name}]`);
    if (!input) throw new Error(`the form #${form.id} has no ${name} field`);
    return input;
  }

  #modeInput(mode: Mode): HTMLInputElement {
    const input = document.querySelector<HTMLInputElement>(`input[name=mode][value=${mode}]`);
    if (!input) throw new Error(`the page has no ${mode} mode`);
    return input;
  }
}

/** localStorage, or null where it is refused (private modes, storage disabled). */
function safeStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
