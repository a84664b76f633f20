// Small DOM helpers. Everything is built with createElement and textContent: no HTML strings, so
// nothing the server or a User-Agent header says can become markup.

type Child = Node | string | null | undefined | false;
type Props = Record<string, string | number | boolean | undefined>;

/**
 * An element with attributes and children. `class` and `data-*` are attributes like any other;
 * `false` and `undefined` leave an attribute out, `true` sets it empty.
 *
 * @example
 * h('button', { type: 'button', class: 'danger' }, 'Sign out')
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

/** The element with this id, of this type; a missing one is a bug in the page, so it throws. */
export function byId<T extends HTMLElement = HTMLElement>(id: string, type?: new () => T): T {
  const el = document.getElementById(id);
  if (!el || (type && !(el instanceof type))) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** Disables a button for the duration of `work`, with `busy` as its text meanwhile. */
export async function whileBusy<T>(button: HTMLButtonElement, busy: string, work: () => Promise<T>): Promise<T> {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = busy;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = label;
  }
}

/**
 * Marks a field invalid and ties it to the message that says why (`aria-describedby`), so a
 * screen reader reads the reason again whenever the field gets focus.
 */
export function markInvalid(field: HTMLInputElement, message: HTMLElement): void {
  field.setAttribute('aria-invalid', 'true');
  const ids = (field.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
  if (!ids.includes(message.id)) field.setAttribute('aria-describedby', [...ids, message.id].join(' '));
}

/** Undoes {@link markInvalid} for every field of `form`. */
export function clearInvalid(form: HTMLElement, message: HTMLElement): void {
  for (const field of form.querySelectorAll('input')) {
    field.removeAttribute('aria-invalid');
    const ids = (field.getAttribute('aria-describedby') ?? '').split(/\s+/).filter((id) => id && id !== message.id);
    if (ids.length > 0) field.setAttribute('aria-describedby', ids.join(' '));
    else field.removeAttribute('aria-describedby');
  }
}
