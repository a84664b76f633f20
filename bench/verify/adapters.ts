// The Express and Hono rows of bench:verify: each framework with a no-auth route and a
// tesseraAuth route, so an adapter's cost is read against its own framework's baseline.
import { createServer } from 'node:http';
import { serve as serveHono } from '@hono/node-server';
import type { createVerifier } from '@tessera/verify';
import { tesseraAuth as expressAuth } from '@tessera/verify/express';
import { tesseraAuth as honoAuth, type TesseraVariables } from '@tessera/verify/hono';
import express from 'express';
import { Hono } from 'hono';
import type { Closers } from './protocol.js';
import { listen } from './route.js';

/**
 * Starts an Express and a Hono app, each with a verifier of its own from `verifier()` (like a
 * service of its own), both ready before this resolves to their base URLs; their cleanup goes in
 * `closers`.
 */
export async function adapterServers(
  closers: Closers,
  verifier: () => ReturnType<typeof createVerifier>,
): Promise<{ expressUrl: string; honoUrl: string }> {
  const expressVerifier = verifier();
  const honoVerifier = verifier();
  await Promise.all([expressVerifier.ready(), honoVerifier.ready()]);
  closers.push(
    () => expressVerifier.close(),
    () => honoVerifier.close(),
  );

  const expressApp = express();
  expressApp.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  expressApp.get('/whoami', expressAuth({ verifier: expressVerifier }), (req, res) => {
    res.json((req as { claims?: unknown }).claims);
  });
  const expressServer = createServer(expressApp);
  const expressUrl = await listen(expressServer);
  closers.push(() => new Promise((r) => expressServer.close(r)));

  const hono = new Hono<{ Variables: TesseraVariables }>();
  hono.get('/healthz', (c) => c.json({ status: 'ok' }));
  hono.get('/whoami', honoAuth({ verifier: honoVerifier }), (c) => c.json(c.get('claims')));
  const honoUrl = await new Promise<string>((resolve) => {
    const server = serveHono({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(`http://127.0.0.1:${info.port}`));
    closers.push(() => new Promise((r) => server.close(r)));
  });
  return { expressUrl, honoUrl };
}
