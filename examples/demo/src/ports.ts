import { createServer } from 'node:net';

/** The address every demo server binds: loopback only, the demo is not for the network. */
export const HOST = '127.0.0.1';

/** A port the demo needs is taken by another program. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly role: string,
  ) {
    super(`port ${port} (${role}) is already in use: stop the program listening there, or pick another port`);
  }
}

/**
 * Fails with {@link PortInUseError} when `port` cannot be bound on {@link HOST}. Checked for
 * every port before anything starts, so a taken port leaves no half-started demo behind.
 */
export function assertPortFree(port: number, role: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new PortInUseError(port, role));
      else if (err.code === 'EACCES')
        reject(new Error(`port ${port} (${role}) needs privileges this process lacks: pick a port above 1023`));
      else reject(err);
    });
    probe.listen({ port, host: HOST, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Checks a port option: an integer from 1 to 65535. */
export function checkPort(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 65_535) throw new RangeError(`${option}: a port from 1 to 65535`);
  return value;
}
