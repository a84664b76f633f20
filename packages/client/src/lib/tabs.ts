/** What one tab tells the others. Same-origin only: BroadcastChannel never crosses origins. */
export type TabMessage =
  /** A token and when the server minted it (a tab handing over an old one says when it was new). */
  | { type: 'tokens'; accessToken: string; expiresAt: number; mintedAt: number }
  /** Cookie mode: another tab signed in (the session cookie is shared; the user is read again). */
  | { type: 'signed-in' }
  | { type: 'signed-out' }
  /** A tab that just opened asks for a live access token. */
  | { type: 'hello' };

/** The part of the Web Locks API used here (a structural type: Node 20 has no `navigator.locks`). */
interface LockManagerLike {
  request<T>(name: string, options: { signal?: AbortSignal }, callback: () => Promise<T>): Promise<T>;
}

/** The part of BroadcastChannel used here. */
interface ChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

/**
 * The tabs of one browser profile that use one issuer: a lock that lets one of them at a time
 * refresh, and a channel to pass the result (or a sign-out) to the rest. Where either API is
 * missing (Node, an old browser), {@link shared} is false and each client stands alone.
 */
export class Tabs {
  readonly shared: boolean;
  readonly #name: string;
  readonly #locks: LockManagerLike | undefined;
  readonly #channel: ChannelLike | undefined;
  readonly #listeners = new Set<(message: TabMessage) => void>();

  constructor(name: string, enabled: boolean) {
    this.#name = name;
    const g = globalThis as unknown as { navigator?: { locks?: LockManagerLike }; BroadcastChannel?: new (name: string) => ChannelLike };
    const locks = g.navigator?.locks;
    const Channel = g.BroadcastChannel;
    this.shared = enabled && locks !== undefined && Channel !== undefined;
    if (!this.shared || !Channel) return;
    this.#locks = locks;
    this.#channel = new Channel(name);
    this.#channel.onmessage = (event) => {
      for (const listener of [...this.#listeners]) listener(event.data as TabMessage);
    };
  }

  /**
   * Runs `task` while holding the tabs' lock (at once, when not shared). Rejects with an
   * `AbortError` if `signal` fires while still waiting in the queue.
   */
  exclusive<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (!this.#locks) return task();
    return this.#locks.request(this.#name, signal ? { signal } : {}, task);
  }

  post(message: TabMessage): void {
    this.#channel?.postMessage(message);
  }

  onMessage(listener: (message: TabMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#listeners.clear();
    this.#channel?.close();
  }
}
