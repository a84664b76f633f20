import type { Explained } from './messages.js';

/** How a message looks and sounds: an error, a success, or plain information. */
export type Tone = 'error' | 'success' | 'info';

/**
 * A message region next to what caused it. The region is `aria-live` from the start (a live
 * region added, or unhidden, at the moment of the message is often not announced): it is emptied
 * between messages, and the style sheet collapses it while it is empty.
 */
export class Notice {
  /** Every region of the page: one message at a time, so an old one never reads as the answer to a new action. */
  static readonly #all = new Set<Notice>();
  readonly #el: HTMLElement;

  constructor(el: HTMLElement) {
    this.#el = el;
    Notice.#all.add(this);
    el.setAttribute('aria-live', 'polite');
    el.setAttribute('aria-atomic', 'true');
    el.classList.add('notice');
  }

  /** Shows `text` (and an optional action button after it). */
  say(text: string, tone: Tone, action?: HTMLButtonElement): void {
    for (const other of Notice.#all) if (other !== this) other.clear();
    // Errors interrupt: the user is waiting for the answer to what they just did.
    this.#el.setAttribute('aria-live', tone === 'error' ? 'assertive' : 'polite');
    this.#el.dataset.tone = tone;
    const p = document.createElement('p');
    p.textContent = text;
    this.#el.replaceChildren(p);
    if (action) this.#el.append(action);
  }

  error(explained: Explained, action?: HTMLButtonElement): void {
    this.say(explained.text, 'error', action);
  }

  clear(): void {
    this.#el.replaceChildren();
    delete this.#el.dataset.tone;
  }
}
