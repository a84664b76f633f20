// What the two processes of bench:verify tell each other over the fork's IPC channel.

/** What the server child tells the driver once everything listens. */
export interface Ready {
  type: 'ready';
  issuer: string;
  urls: Record<'fastify' | 'control' | 'plain' | 'fastJwt' | 'sqlite' | 'redis' | 'express' | 'hono', string | null>;
  cookies: { sqlite: string[]; redis: string[] };
  redisSkipped: string | null;
}

/** A decoded access token's claims, as the routes answer them. */
export type Claims = Record<string, unknown>;

/** Cleanups the child runs in reverse order when told to stop. */
export type Closers = (() => Promise<unknown> | unknown)[];
