import { createServer, type Server } from 'node:http';
import { tesseraAuth } from '@tessera/verify/express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { HOST, PortInUseError } from '../ports.js';
import { corsHeaders, demoVerifier, type HelloBody, roundMs, type ServiceOptions, serverTiming } from './common.js';
import type { DemoService } from './service.js';

/** The same service as the Fastify one, on Express with `@tessera/verify/express`. */
export async function startExpressService(options: ServiceOptions & { port: number }): Promise<DemoService> {
  const verifier = demoVerifier(options);
  await verifier.ready();
  const app = express();
  app.disable('x-powered-by');
  const authenticate = tesseraAuth({ verifier });
  const verifyMs = new WeakMap<Request, number>();

  app.use((req, res, next) => {
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    res.set(corsHeaders(options.appOrigin, req.headers.origin, preflight));
    if (preflight) {
      res.status(204).end();
      return;
    }
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/status', (_req, res) => {
    res.json({ service: 'express', feed: verifier.feedStatus(), jwks: verifier.jwksStatus() });
  });
  app.get(
    '/hello',
    // Timed around the adapter's verification alone: what every request to a service pays.
    (req, res, next) => {
      const started = performance.now();
      authenticate(req, res, (err?: unknown) => {
        verifyMs.set(req, performance.now() - started);
        next(err);
      });
    },
    (req, res) => {
      const ms = verifyMs.get(req) ?? 0;
      const body: HelloBody = { service: 'express', claims: req.claims ?? {}, verify_ms: roundMs(ms) };
      res.set('server-timing', serverTiming(ms)).json(body);
    },
  );
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', error_description: 'no such route' });
  });
  app.use((err: { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    const status = err.status !== undefined && err.status >= 400 && err.status < 500 ? err.status : 500;
    res.status(status).json({ error: status === 500 ? 'server_error' : 'invalid_request', error_description: 'request refused' });
  });

  const server: Server = createServer(app);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    verifier.close();
    throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new PortInUseError(options.port, 'Express service') : err;
  }
  return {
    url: `http://localhost:${options.port}`,
    close: async () => {
      verifier.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
