import type { ResolvedFeedOptions } from './options.js';
import type { LiveSource, SourceHooks } from './source.js';
import { createSseParser } from './sse-parser.js';

/** What the SSE source needs of the feed's options. */
export type SseSourceOptions = Pick<
  ResolvedFeedOptions,
  'issuer' | 'fetch' | 'sseIdleTimeoutMs' | 'minRetryMs' | 'maxRetryMs' | 'authorization'
>;

/** What the SSE source needs of the feed's cursor. */
export interface SseCursor {
  /** The cursor to resume after (sent as `Last-Event-ID`), or null for every retained event. */
  current(): string | null;
  /** The auth server refused the cursor (it is not one of this feed's): forget it. */
  forget(): void;
}

/**
 * Live events from `GET /v1/revocations/stream`, reconnected with jittered exponential back-off
 * whenever the stream ends, fails or falls silent, resuming after the feed's cursor.
 */
export class SseSource implements LiveSource {
  #o: SseSourceOptions;
  #cursor: SseCursor;
  #hooks: SourceHooks;
  #abort: AbortController | null = null;
  #retry: NodeJS.Timeout | undefined;
  #retryMs: number;
  #reconnects = 0;
  #closed = false;

  constructor(options: SseSourceOptions, cursor: SseCursor, hooks: SourceHooks) {
    this.#o = options;
    this.#cursor = cursor;
    this.#hooks = hooks;
    this.#retryMs = options.minRetryMs;
  }

  get reconnects(): number {
    return this.#reconnects;
  }

  start(): void {
    this.#connect();
  }

  close(): void {
    this.#closed = true;
    this.#abort?.abort();
    clearTimeout(this.#retry);
  }

  #connect(): void {
    if (this.#closed) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#stream(abort)
      .catch(() => undefined)
      .finally(() => {
        this.#hooks.down();
        if (this.#closed) return;
        this.#reconnects++;
        const wait = this.#retryMs;
        this.#retryMs = Math.min(this.#o.maxRetryMs, this.#retryMs * 2);
        this.#retry = setTimeout(() => this.#connect(), wait * (0.5 + Math.random() / 2));
        this.#retry.unref();
      });
  }

  /** One connection, from the request to the end of the stream. */
  async #stream(abort: AbortController): Promise<void> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.#o.authorization !== null) headers.authorization = this.#o.authorization;
    const resumeAfter = this.#cursor.current();
    if (resumeAfter !== null) headers['last-event-id'] = resumeAfter;
    // A server that takes the connection but never answers is as dead as a silent stream.
    const answerTimer = setTimeout(() => abort.abort(), this.#o.sseIdleTimeoutMs);
    answerTimer.unref();
    const res = await this.#o
      .fetch(`${this.#o.issuer}/v1/revocations/stream`, { headers, signal: abort.signal })
      .finally(() => clearTimeout(answerTimer));
    // A Last-Event-ID this feed does not know: resume from the oldest retained event next time.
    if (res.status === 400 && resumeAfter !== null) this.#cursor.forget();
    // A 401 (no or wrong credentials) is retried like any failure: the feed stays down meanwhile.
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`revocation stream answered ${res.status}`);
    }
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream'))
      throw new Error('revocation stream is not text/event-stream');
    const parse = createSseParser((ev) => {
      if (ev.event === 'revocation') this.#hooks.received(ev.data);
    });
    const decoder = new TextDecoder();
    // A half-open connection (peer gone, no FIN or RST) delivers nothing and raises nothing:
    // with no byte, not even a heartbeat, for sseIdleTimeoutMs, the stream is dropped.
    let lastByteAt = performance.now();
    const idle = setInterval(
      () => {
        if (performance.now() - lastByteAt >= this.#o.sseIdleTimeoutMs) abort.abort();
      },
      Math.max(10, Math.min(1_000, this.#o.sseIdleTimeoutMs / 4)),
    );
    idle.unref();
    let heard = false;
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        lastByteAt = performance.now();
        if (!heard) {
          // A connection that got as far as a byte resets the back-off: the next failure is a new outage.
          heard = true;
          this.#retryMs = this.#o.minRetryMs;
        }
        // Connected once the server has said something (the auth server writes a comment at once):
        // a proxy that answers 200 and then holds or closes the stream never counts as a live feed.
        this.#hooks.up();
        parse(decoder.decode(chunk, { stream: true }));
      }
    } finally {
      clearInterval(idle);
    }
  }
}
