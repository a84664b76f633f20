// A TCP proxy that can stall: the way a network partition or a frozen host looks to a client.
// Nothing is refused or reset (that is e2e/lib/tcp-proxy.ts's `cut`); bytes simply stop
// arriving, on open connections and on new ones, so only the client's own timeouts end a wait.
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A proxy to `127.0.0.1:<target>` the test can stall and resume. */
export interface StallProxy {
  port: number;
  /** From now on nothing is forwarded, in either direction; new connections are accepted and left silent. */
  stall(): void;
  /** Drops the connections held during the stall (as the peers' timeouts would) and forwards again. */
  resume(): void;
  close(): Promise<void>;
}

/** Listens on a free 127.0.0.1 port and forwards every connection to `127.0.0.1:targetPort`. */
export async function startStallProxy(targetPort: number): Promise<StallProxy> {
  const sockets = new Set<Socket>();
  let stalled = false;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    if (stalled) return; // accepted, never answered
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    // Forward by hand rather than pipe(), so a stall can drop bytes without touching the sockets.
    client.on('data', (chunk) => {
      if (!stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!stalled) client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  const dropAll = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    port: address.port,
    stall() {
      stalled = true;
    },
    resume() {
      // A connection that lost bytes mid-stream is corrupt: end it, as TCP would after its retries.
      dropAll();
      stalled = false;
    },
    close() {
      stalled = true;
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
