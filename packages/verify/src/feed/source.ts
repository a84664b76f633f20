/** What a live source (the SSE stream, Redis pub/sub) tells the feed that runs it. */
export interface SourceHooks {
  /** A message arrived: the JSON text of one event, checked by the feed before it applies it. */
  received(json: string): void;
  /** The source hears the auth server (again). Called on every sign of life; the feed acts on the first. */
  up(): void;
  /** The source lost the auth server. */
  down(): void;
}

/** A source of live revocation events, run by {@link RevocationFeed}. */
export interface LiveSource {
  /** Starts listening; resolves when the feed may go on starting (the source keeps trying on its own). */
  start(): Promise<void> | void;
  /** Stops for good: no reconnect after this. */
  close(): void;
  /** Connections lost and retried so far. */
  readonly reconnects: number;
}
