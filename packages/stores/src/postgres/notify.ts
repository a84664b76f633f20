/**
 * PostgreSQL `LISTEN/NOTIFY` for the revocation log: every append notifies (in its own
 * statement, so the notification is delivered when, and only if, the append commits), and each
 * node holds one dedicated connection listening for it. A notification carries no event, only
 * the cursor it reached: the listener reads the events from the store as usual, so the database
 * stays the one durable log, and a node that missed notifications while disconnected catches up
 * from its own cursor when it listens again.
 */

/**
 * The channel appends notify on. Channels are per database, and several schemas may share one,
 * so the payload is `<schema>:<cursor>`.
 */
export const REVOCATION_CHANNEL = 'tessera_revocations';

/** Options of {@link listenForRevocations}. */
export interface RevocationListenerOptions {
  /** The database (any form `pg` accepts). */
  connectionString: string;
  /** Schema whose appends are of interest (appends in other schemas of the same database are ignored). Default `public`. */
  schema?: string;
  /** Called with the cursor an append reached, after it committed. */
  onNotify: (cursor: string) => void;
  /**
   * Called each time the connection listens, at first and after every reconnect: what was
   * appended while nobody listened must be caught up from the store now.
   */
  onListening?: () => void;
  /** Called with each connection error (the listener reconnects by itself). Default: ignored. */
  onError?: (err: Error) => void;
  /** First reconnect delay, ms; doubles per failed attempt. Default 100. */
  retryMinMs?: number;
  /** Longest reconnect delay, ms. Default 5000. */
  retryMaxMs?: number;
}

/** A running listener: see {@link listenForRevocations}. */
export interface RevocationListener {
  /** True while the connection is up and listening. */
  readonly listening: boolean;
  /** The backend process id of the listening connection (for tests and diagnostics), or null. */
  readonly pid: number | null;
  /** Stops listening and closes the connection; no callback runs afterwards. */
  close(): Promise<void>;
}

/** The part of `pg.Client` the listener uses. */
interface ListenClient {
  processID?: number | null;
  connect(): Promise<unknown>;
  query(text: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
}

async function newClient(connectionString: string): Promise<ListenClient> {
  const pg = await import('pg');
  const Client = pg.default?.Client ?? pg.Client;
  // keepAlive: a connection dropped without a FIN (a failover, a NAT timeout) is noticed, not held forever.
  return new Client({ connectionString, keepAlive: true, connectionTimeoutMillis: 5000 }) as unknown as ListenClient;
}

/**
 * Listens for revocation appends on a connection of its own (never one of the pool: a pooled
 * connection is handed to other queries and may be discarded, and LISTEN belongs to a session).
 * Reconnects after a drop with a growing delay, and calls `onListening` once it listens again.
 *
 * @example
 * const listener = listenForRevocations({ connectionString, onNotify: () => sync(), onListening: () => sync() });
 * await listener.close();
 */
export function listenForRevocations(options: RevocationListenerOptions): RevocationListener {
  const schema = options.schema ?? 'public';
  const prefix = `${schema}:`;
  const min = options.retryMinMs ?? 100;
  const max = options.retryMaxMs ?? 5000;
  const onError = options.onError ?? (() => {});
  let client: ListenClient | null = null;
  let listening = false;
  let closed = false;
  let delay = min;
  let timer: NodeJS.Timeout | undefined;

  const schedule = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    timer.unref();
    delay = Math.min(max, delay * 2);
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    let c: ListenClient;
    try {
      c = await newClient(options.connectionString);
    } catch (err) {
      onError(err as Error);
      schedule();
      return;
    }
    client = c;
    let dropped = false;
    const drop = (err?: Error) => {
      if (dropped) return;
      dropped = true;
      listening = false;
      if (client === c) client = null;
      if (err && !closed) onError(err);
      c.end().catch(() => {});
      schedule();
    };
    c.on('error', drop);
    c.on('end', () => drop());
    c.on('notification', (message) => {
      if (closed || message.channel !== REVOCATION_CHANNEL || !message.payload?.startsWith(prefix)) return;
      options.onNotify(message.payload.slice(prefix.length));
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${REVOCATION_CHANNEL}`);
    } catch (err) {
      drop(err as Error);
      return;
    }
    if (closed || dropped) return;
    listening = true;
    delay = min;
    options.onListening?.();
  };

  void connect();
  return {
    get listening() {
      return listening;
    },
    get pid() {
      return listening ? (client?.processID ?? null) : null;
    },
    async close() {
      closed = true;
      listening = false;
      clearTimeout(timer);
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
