import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { StoreUnavailableError } from '../errors.js';
import type { RedisClient } from './client.js';
import { parseRedisUrl } from './url.js';

// The session lookup runs on every cookie-authenticated request, and through a general-purpose
// driver its one HMGET costs several times what the read itself does (a command object, a
// promise chain, a reply transformer and a timer per command). This reader sends that one command
// over a connection of its own, one socket write per turn of the event loop for every lookup
// issued in it, and parses the replies with no driver in between. Anything it cannot do right
// now goes to `fallback` (the driver), so the reader only ever makes a working path faster.

/** HMGET over a connection of its own; see {@link openHashReader}. */
export interface HashReader {
  /** The values of `fields` in the hash at `key`, null where a field (or the key) is missing. */
  hmget(key: string, fields: readonly string[]): Promise<(string | null)[]>;
  /** Whether reads go over the reader's own connection now (false: through `fallback`). */
  readonly connected: boolean;
  /** Closes the connection after the replies already asked for; later reads go to `fallback`. */
  quit(): Promise<void>;
}

/** Options of {@link openHashReader}. */
export interface HashReaderOptions {
  /** Where reads go while the reader's own connection is not up, and those it lost with it. */
  fallback: Pick<RedisClient, 'hmget'>;
  /**
   * Milliseconds a read waits for its reply before it fails with a {@link StoreUnavailableError}
   * and the connection is replaced (default 2000). Checked by one timer, every tenth of a second
   * (or quarter of the timeout, if shorter).
   */
  commandTimeoutMs?: number;
  /** Milliseconds to wait for the TCP connection and the handshake. Default 5000. */
  connectTimeoutMs?: number;
  /** Called with each connection error (they are otherwise dropped: reads fall back meanwhile). */
  onError?: (err: Error) => void;
  /** The connection's name in Redis' CLIENT LIST. Default `tessera-session-reads`. */
  connectionName?: string;
}

/** A command sent and not answered yet. */
interface Pending {
  sentAt: number;
  /** Called once, with the reply (an error reply as an Error) or with why none will come. */
  settle(reply: Reply | Error): void;
  /** A read, to send again through `fallback` when the connection drops before its reply. */
  read?: { key: string; fields: readonly string[] };
}

/** An error reply, named as ioredis names it, so `isStoreUnavailable` reads both alike. */
class ReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyError';
  }
}

/** A reply that did not parse: the stream is out of step, and the connection must go. */
class ProtocolError extends Error {}

/** Not a whole reply yet: wait for more bytes. */
const INCOMPLETE = Symbol('incomplete');

type Reply = string | number | null | Reply[];

/**
 * Parses one RESP2 reply from `buf` at `at`. Returns the reply and the offset after it, or
 * INCOMPLETE when `buf` ends inside it.
 */
export function parseReply(buf: Buffer, at: number): [Reply | ReplyError, number] | typeof INCOMPLETE {
  const end = buf.indexOf(13, at);
  if (end < 0 || end + 1 >= buf.length) return INCOMPLETE;
  const type = buf[at];
  const line = buf.toString('latin1', at + 1, end);
  const next = end + 2;
  switch (type) {
    case 0x2b: // +simple
      return [line, next];
    case 0x2d: // -error
      return [new ReplyError(buf.toString('utf8', at + 1, end)), next];
    case 0x3a: // :integer
      return [Number(line), next];
    case 0x24: {
      // $bulk
      const length = Number(line);
      if (!Number.isInteger(length) || length < -1) throw new ProtocolError('bad bulk length');
      if (length === -1) return [null, next];
      if (next + length + 2 > buf.length) return INCOMPLETE;
      return [buf.toString('utf8', next, next + length), next + length + 2];
    }
    case 0x2a: {
      // *array
      const count = Number(line);
      if (!Number.isInteger(count) || count < -1) throw new ProtocolError('bad array length');
      if (count === -1) return [null, next];
      const items: (Reply | ReplyError)[] = new Array(count);
      let offset = next;
      for (let i = 0; i < count; i++) {
        if (offset >= buf.length) return INCOMPLETE;
        const item = parseReply(buf, offset);
        if (item === INCOMPLETE) return INCOMPLETE;
        items[i] = item[0];
        offset = item[1];
      }
      return [items as Reply[], offset];
    }
    default:
      throw new ProtocolError(`unexpected reply type 0x${(type ?? 0).toString(16)}`);
  }
}

/** Arguments in RESP2 (bulk strings), without the array header. */
function bulks(args: readonly string[]): string {
  let out = '';
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

/** One command in RESP2 (an array of bulk strings). */
const encode = (args: readonly string[]): string => `*${args.length}\r\n${bulks(args)}`;

/** Encoded field lists, by list: a store asks for the same constant list on every read. */
const encodedFields = new WeakMap<readonly string[], string>();

/** `HMGET key …fields` in RESP2, the fields' part encoded once per list. */
function encodeHmget(key: string, fields: readonly string[]): string {
  let tail = encodedFields.get(fields);
  if (tail === undefined) {
    tail = bulks(fields);
    encodedFields.set(fields, tail);
  }
  return `*${fields.length + 2}\r\n$5\r\nHMGET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n${tail}`;
}

const MAX_RECONNECT_DELAY_MS = 2_000;

/**
 * Opens a {@link HashReader} on the Redis at `url` (a single server: a cluster routes by slot, which
 * this reader does not). It connects in the background and reconnects by itself, with back-off;
 * until it is connected, and for the reads a dropped connection took with it, `fallback` answers.
 * A read that times out fails with a {@link StoreUnavailableError} (a 503 upstream), as through the
 * driver. Reads on this connection see every write the driver's connection had answered before
 * they were sent: one Redis server runs commands one at a time, whichever connection sent them.
 *
 * @example
 * const reader = openHashReader(url, { fallback: redis });
 * const [userId, kind] = await reader.hmget(key, ['userId', 'kind']);
 */
export function openHashReader(url: string, options: HashReaderOptions): HashReader {
  const endpoint = parseRedisUrl(url);
  const { fallback } = options;
  const commandTimeout = options.commandTimeoutMs ?? 2_000;
  const connectTimeout = options.connectTimeoutMs ?? 5_000;
  const onError = options.onError ?? (() => {});
  const connectionName = options.connectionName ?? 'tessera-session-reads';

  let socket: Socket | null = null;
  let ready = false;
  let closing = false;
  let attempts = 0;
  let reconnectTimer: NodeJS.Timeout | null = null;
  /** Ends the current connection attempt if its handshake has not finished in time. */
  let connectTimer: NodeJS.Timeout | null = null;
  let watchdog: NodeJS.Timeout | null = null;
  /** Reads sent (or queued to be sent this turn), oldest first; replies answer them in order. */
  let pending: Pending[] = [];
  let outgoing = '';
  let flushScheduled = false;
  let rest: Buffer | null = null;

  const flush = (): void => {
    flushScheduled = false;
    if (outgoing === '' || !socket) return;
    socket.write(outgoing);
    outgoing = '';
  };

  /** Called once the connection is gone after {@link HashReader.quit}. */
  let onClosed: (() => void) | null = null;
  let quitting: Promise<void> | null = null;

  /** A read the connection took with it, sent again through `fallback`. */
  const resend = ({ key, fields }: NonNullable<Pending['read']>, settle: Pending['settle']): void => {
    // On a later tick, so a fallback that throws rejects this read instead of escaping here.
    Promise.resolve()
      .then(() => fallback.hmget(key, ...fields))
      .then(settle, settle);
  };

  /**
   * Ends the connection. Its reads go to `fallback`, except, with `timedOut`, those that have
   * waited the whole command timeout: they fail with it.
   */
  const drop = (why: Error, timedOut?: Error): void => {
    if (!socket) return;
    const lost = pending;
    pending = [];
    outgoing = '';
    rest = null;
    ready = false;
    socket.removeAllListeners();
    socket.on('error', () => {});
    socket.destroy();
    socket = null;
    if (connectTimer) clearTimeout(connectTimer);
    connectTimer = null;
    if (watchdog) clearInterval(watchdog);
    watchdog = null;
    if (!closing) {
      try {
        onError(why);
      } catch {
        // A listener's failure must not leave the reads below unanswered.
      }
    }
    const now = Date.now();
    for (const p of lost) {
      if (p.read && !(timedOut && now - p.sentAt >= commandTimeout)) resend(p.read, p.settle);
      else p.settle(timedOut ?? why);
    }
    if (closing) onClosed?.();
    else scheduleReconnect();
  };

  const scheduleReconnect = (): void => {
    if (reconnectTimer || closing) return;
    const delay = Math.min(MAX_RECONNECT_DELAY_MS, 50 * 2 ** Math.min(attempts, 6));
    attempts++;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      open();
    }, delay);
    reconnectTimer.unref();
  };

  const onData = (chunk: Buffer): void => {
    const from = socket;
    const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    let offset = 0;
    try {
      while (offset < buf.length) {
        const parsed = parseReply(buf, offset);
        if (parsed === INCOMPLETE) break;
        offset = parsed[1];
        const p = pending.shift();
        if (!p) throw new ProtocolError('a reply nobody asked for');
        p.settle(parsed[0]);
        // A reply that ended the connection (a refused handshake): what follows it is that
        // connection's, not the next one's.
        if (socket !== from) return;
      }
    } catch (err) {
      drop(err as Error);
      return;
    }
    rest = offset < buf.length ? buf.subarray(offset) : null;
  };

  /** Connects, authenticates and selects the database; the reader is ready once all of it answered. */
  const open = (): void => {
    if (closing) return;
    // TLS names a host by its name only (SNI takes no address): as the driver does.
    const s = endpoint.tls
      ? connectTls({ host: endpoint.host, port: endpoint.port, ...(isIP(endpoint.host) === 0 && { servername: endpoint.host }) })
      : connectTcp({ host: endpoint.host, port: endpoint.port });
    socket = s;
    rest = null;
    s.setNoDelay(true);
    connectTimer = setTimeout(() => {
      if (socket === s) drop(new StoreUnavailableError('Redis: connection timed out'));
    }, connectTimeout);
    connectTimer.unref();
    s.on('data', onData);
    s.on('error', (err) => drop(err));
    s.on('close', () => drop(new StoreUnavailableError('Redis: connection closed')));
    s.once(endpoint.tls ? 'secureConnect' : 'connect', () => {
      const handshake: string[][] = [];
      if (endpoint.password !== undefined) {
        handshake.push(endpoint.username !== undefined ? ['AUTH', endpoint.username, endpoint.password] : ['AUTH', endpoint.password]);
      }
      if (endpoint.db !== undefined) handshake.push(['SELECT', String(endpoint.db)]);
      // The name only helps an operator read CLIENT LIST: a user whose ACL refuses it still reads.
      const naming = handshake.push(['CLIENT', 'SETNAME', connectionName]) - 1;
      let left = handshake.length;
      const step =
        (index: number) =>
        (reply: Reply | Error): void => {
          if (socket !== s) return;
          if (reply instanceof Error && index !== naming) {
            drop(reply);
            return;
          }
          if (--left > 0) return;
          if (connectTimer) clearTimeout(connectTimer);
          connectTimer = null;
          ready = true;
          attempts = 0;
          watchdog = setInterval(checkTimeouts, Math.max(1, Math.min(100, Math.floor(commandTimeout / 4))));
          watchdog.unref();
        };
      const now = Date.now();
      handshake.forEach((command, index) => {
        pending.push({ sentAt: now, settle: step(index) });
        s.write(encode(command));
      });
    });
  };

  const checkTimeouts = (): void => {
    const oldest = pending[0];
    if (oldest && Date.now() - oldest.sentAt >= commandTimeout) {
      const err = new StoreUnavailableError(`Redis did not answer within ${commandTimeout} ms`);
      drop(err, err);
    }
  };

  open();

  return {
    get connected() {
      return ready;
    },
    hmget(key, fields) {
      if (!ready || !socket) return fallback.hmget(key, ...fields);
      return new Promise((resolve, reject) => {
        const settle = (reply: Reply | Error): void => {
          if (reply instanceof Error) reject(reply);
          else if (Array.isArray(reply)) resolve(reply as (string | null)[]);
          else reject(new ProtocolError('HMGET answered with something other than an array'));
        };
        pending.push({ sentAt: Date.now(), settle, read: { key, fields } });
        outgoing += encodeHmget(key, fields);
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      });
    },
    quit() {
      quitting ??= new Promise<void>((resolve) => {
        closing = true;
        if (reconnectTimer) clearTimeout(reconnectTimer);
        reconnectTimer = null;
        const s = socket;
        if (!s) return resolve();
        if (!ready) {
          drop(new StoreUnavailableError('Redis: reader closed'));
          return resolve();
        }
        // Reads asked for from now on go to `fallback`. QUIT is answered after every read sent
        // before it; its answer (or the watchdog, if none comes) ends the connection and this wait.
        ready = false;
        flush();
        onClosed = resolve;
        pending.push({ sentAt: Date.now(), settle: () => drop(new StoreUnavailableError('Redis: reader closed')) });
        s.write(encode(['QUIT']));
      });
      return quitting;
    },
  };
}
