import { h } from './dom.js';
import { icon } from './icons.js';

/**
 * Adds a show/hide button to every password field on the page: a real button, named "Show
 * password" with `aria-pressed` telling whether it is shown, so a screen reader hears "Show
 * password, toggle button, pressed". Focus stays on the button; the caret stays in the field.
 */
export function addPasswordToggles(root: ParentNode = document): void {
  for (const wrapper of root.querySelectorAll<HTMLElement>('.password')) {
    const input = wrapper.querySelector('input');
    if (!input || wrapper.querySelector('.reveal')) continue;
    const button = h('button', {
      type: 'button',
      class: 'reveal',
      'aria-label': 'Show password',
      'aria-pressed': 'false',
      'aria-controls': input.id,
      title: 'Show password',
    });
    button.append(icon('eye'));
    button.addEventListener('click', () => setShown(button, input, input.type === 'password'));
    wrapper.append(button);
  }
}

/** Hides every password again (after a sign-in or a change, so a shown one does not linger). */
export function hidePasswords(root: ParentNode = document): void {
  for (const button of root.querySelectorAll<HTMLButtonElement>('.reveal')) {
    const input = document.getElementById(button.getAttribute('aria-controls') ?? '');
    if (input instanceof HTMLInputElement) setShown(button, input, false);
  }
}

function setShown(button: HTMLButtonElement, input: HTMLInputElement, shown: boolean): void {
  input.type = shown ? 'text' : 'password';
  button.setAttribute('aria-pressed', String(shown));
  button.title = shown ? 'Hide password' : 'Show password';
  button.replaceChildren(icon(shown ? 'eyeOff' : 'eye'));
}
