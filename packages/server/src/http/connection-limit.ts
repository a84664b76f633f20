import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { clientAddressKey } from '../lib/client-address.js';

/** Options of {@link limitConnectionsPerAddress}. */
export interface ConnectionLimitOptions {
  /** Most open connections from one remote address; past it a new one is closed at once. 0 turns the cap off. */
  max: number;
  /**
   * Called when an address reaches the cap and its first connection is refused, and not again until
   * its count falls below the cap: one log line per episode, not one per refused connection.
   */
  onCapped?: (address: string) => void;
}

/**
 * Caps the connections one client address may hold open at once. Each one holds a file
 * descriptor until it ends; without a cap, a single client opening connections it never
 * finishes (a half-sent body, headers dribbled a byte at a time) exhausts the process's
 * descriptors, and every other client, health checks included, is refused.
 *
 * Counted by the socket's remote address, as the kernel reports it: behind a reverse proxy every
 * connection comes from the proxy, so set the cap above the proxy's own connection pool to this
 * node, or to 0 and let the proxy cap per client.
 *
 * @example
 * limitConnectionsPerAddress(app.server, { max: config.maxConnectionsPerIp, onCapped: (a) => log.warn({ a }, 'cap') });
 */
export function limitConnectionsPerAddress(server: Server, options: ConnectionLimitOptions): void {
  const { max, onCapped } = options;
  if (max <= 0) return;
  const open = new Map<string, number>();
  const capped = new Set<string>();
  server.on('connection', (socket: Socket) => {
    // No address: the peer already left before the connection was handed over; nothing to count.
    if (socket.remoteAddress === undefined) return;
    // One IPv6 /64 is one client, as for the throttles.
    const address = clientAddressKey(socket.remoteAddress);
    const count = open.get(address) ?? 0;
    if (count >= max) {
      if (!capped.has(address)) {
        capped.add(address);
        onCapped?.(address);
      }
      // Reset, not a graceful end: the refused client learns at once, and no buffer is kept for it.
      socket.resetAndDestroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
      capped.delete(address);
    });
  });
}
