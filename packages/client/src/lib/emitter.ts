import type { ChangeListener, ChangeReason, User } from '../types.js';

/** The `change` listeners of one client. A throwing listener does not stop the others. */
export class ChangeEmitter {
  readonly #listeners = new Set<ChangeListener>();

  on(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(user: User | null, reason: ChangeReason): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(user, reason);
      } catch (err) {
        // One broken listener must not keep the rest of the page from hearing of a sign-out.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
