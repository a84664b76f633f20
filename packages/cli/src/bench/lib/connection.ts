// The client of the closed loops (refresh rotations, logins, polling a route until it refuses a
// token), which autocannon cannot drive: each request depends on the previous answer.
import { connect, type Socket } from 'node:net';
import { performance, type RecordableHistogram } from 'node:perf_hooks';

/** A parsed answer: status and JSON body (`{}` when empty). */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * One keep-alive HTTP/1.1 connection, one request at a time: what the closed loops use. As lean as
 * autocannon's client on purpose: node:http's client costs ~100 µs more per request here (measured),
 * and in this process that time would be taken from the server. Only what Fastify sends is parsed:
 * a status line and a Content-Length body (none for 204 and 304).
 */
export class Connection {
  #socket: Socket;
  #port: number;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: { resolve: (a: Answer) => void; reject: (e: Error) => void } | null = null;

  private constructor(socket: Socket, port: number) {
    this.#socket = socket;
    this.#port = port;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => this.#fail(new Error('connection closed')));
  }

  /** Connects to 127.0.0.1:`port`. */
  static open(port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new Connection(socket, port)));
      socket.once('error', reject);
    });
  }

  /** Sends one JSON POST and waits for its answer; throws if the previous one is still pending (no pipelining). */
  post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    return this.request('POST', path, headers, JSON.stringify(body));
  }

  /** Sends one GET and waits for its answer; throws if the previous one is still pending (no pipelining). */
  get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.request('GET', path, headers);
  }

  /** Sends one request (`payload` as JSON when given) and waits for its answer. */
  request(method: string, path: string, headers: Record<string, string>, payload?: string): Promise<Answer> {
    if (this.#pending) throw new Error('one request at a time');
    let head = `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1:${this.#port}\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    if (payload !== undefined) head += `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n`;
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#socket.write(`${head}\r\n${payload ?? ''}`);
    });
  }

  /** Drops the connection. */
  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const end = this.#buffer.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.#buffer.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    // 204 and 304 answers have no body, and need no Content-Length (RFC 9110 §8.6).
    if (!length && status !== 204 && status !== 304) {
      this.#fail(new Error(`no content-length in ${JSON.stringify(head)}`));
      return;
    }
    const total = end + HEADER_END.length + Number(length?.[1] ?? 0);
    if (this.#buffer.length < total) return;
    const text = this.#buffer.toString('utf8', end + HEADER_END.length, total);
    this.#buffer = this.#buffer.subarray(total);
    const pending = this.#pending;
    this.#pending = null;
    pending?.resolve({ status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
  }

  #fail(err: Error): void {
    const pending = this.#pending;
    this.#pending = null;
    pending?.reject(err);
  }
}

/**
 * Closed loops, one per connection: each runs `step` back to back from its own state until the
 * deadline (`performance.now()` time), recording every step's latency in µs. Resolves the number
 * of steps; a failed step rejects, voiding the run.
 */
export async function stepUntil<S>(
  connections: readonly Connection[],
  states: readonly S[],
  step: (c: Connection, state: S) => Promise<S>,
  until: number,
  latency: RecordableHistogram,
): Promise<number> {
  let ok = 0;
  await Promise.all(
    connections.map(async (c, i) => {
      let state = states[i] as S;
      while (performance.now() < until) {
        const t = performance.now();
        state = await step(c, state);
        latency.record(Math.max(1, Math.round((performance.now() - t) * 1000)));
        ok++;
      }
    }),
  );
  return ok;
}
