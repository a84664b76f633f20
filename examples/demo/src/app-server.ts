import { access, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { AuthProcess } from './auth-process.js';
import { HOST, PortInUseError } from './ports.js';

/** Where the app's page, script and style sheet are: `public/` beside `dist/`. */
const PUBLIC = new URL('../public/', import.meta.url);

/** The origins the page talks to, handed to it as `/config.json`. */
export interface AppConfig {
  app: string;
  auth: string;
  services: { id: 'fastify' | 'express'; label: string; url: string }[];
}

const TYPES = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' } as const;

function files(): Record<string, [string, string]> {
  return {
    '/': [fileURLToPath(new URL('index.html', PUBLIC)), TYPES.html],
    '/app.js': [fileURLToPath(new URL('app.js', PUBLIC)), TYPES.js],
    '/app.css': [fileURLToPath(new URL('app.css', PUBLIC)), TYPES.css],
    // The client's single-file browser build, as a page without a bundler loads it.
    '/tessera-client.js': [fileURLToPath(import.meta.resolve('@tessera/client/browser')), TYPES.js],
  };
}

// The page reaches its own origin, the auth server and the services; nothing runs that it did not load from here.
const CSP =
  "default-src 'self'; connect-src 'self' http://localhost:* http://127.0.0.1:*; script-src 'self'; style-src 'self'; " +
  "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

/**
 * The control endpoints change what runs on this machine, so only the demo page itself may call
 * them: a browser request from any other origin (or one that names none) is refused.
 */
function sameOrigin(req: IncomingMessage, appOrigin: string): boolean {
  const site = req.headers['sec-fetch-site'];
  return req.headers.origin === appOrigin && (site === undefined || site === 'same-origin');
}

/** A running app server. */
export interface AppServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The demo app's own origin: its static page, the client bundle, `/config.json`, and the
 * launcher's control of the auth process (`GET /control/auth`, `POST /control/auth/stop`,
 * `POST /control/auth/start`, same-origin only).
 */
export async function startAppServer(options: {
  port: number;
  config: AppConfig;
  auth: AuthProcess;
  log: (line: string) => void;
}): Promise<AppServer> {
  const { config, auth, log } = options;
  const routes = files();
  for (const [file] of Object.values(routes)) {
    await access(file).catch(() => {
      throw new Error(`${file} is missing: run npm run build first`);
    });
  }
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/control/auth' && req.method === 'GET') return json(res, 200, { state: auth.state });
    const control = /^\/control\/auth\/(stop|start)$/.exec(path);
    if (control) {
      if (req.method !== 'POST') return json(res, 405, { error: 'method_not_allowed', error_description: 'use POST' });
      if (!sameOrigin(req, config.app))
        return json(res, 403, { error: 'invalid_origin', error_description: 'only the demo page may control the auth server' });
      req.resume();
      const action = control[1] as 'stop' | 'start';
      log(`${action === 'stop' ? 'stopping' : 'starting'} the auth server (asked by the demo page)`);
      try {
        await (action === 'stop' ? auth.stop() : auth.start());
      } catch (err) {
        log(`the auth server did not start: ${err instanceof Error ? err.message : String(err)}`);
        return json(res, 409, {
          error: 'start_failed',
          error_description: 'the auth server did not start; its output is in the demo terminal',
          state: auth.state,
        });
      }
      return json(res, 200, { state: auth.state });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method_not_allowed', error_description: 'use GET' });
    if (path === '/config.json') return json(res, 200, config);
    const file = routes[path];
    if (!file) return json(res, 404, { error: 'not_found', error_description: 'no such file' });
    const body = await readFile(file[0]);
    res.writeHead(200, { ...COMMON_HEADERS, 'content-type': file[1] }).end(req.method === 'HEAD' ? undefined : body);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`app server: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) json(res, 404, { error: 'not_found', error_description: 'not available' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(options.port, 'demo app') : err),
    );
    server.listen(options.port, HOST, () => resolve());
  });
  return {
    url: config.app,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
