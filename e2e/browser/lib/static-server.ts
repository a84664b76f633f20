// A tiny static server for the browser tests' pages: its own origin, apart from the auth
// server's, as a single-page app would be deployed. It serves the pages and the client's
// single-file browser build, nothing else.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';

const PAGES = new URL('../pages/', import.meta.url);
export const CLIENT_BUNDLE = fileURLToPath(new URL('../../../packages/client/dist/tessera-client.js', import.meta.url));

const FILES: Record<string, [string, string]> = {
  '/': [fileURLToPath(new URL('index.html', PAGES)), 'text/html; charset=utf-8'],
  '/app.js': [fileURLToPath(new URL('app.js', PAGES)), 'text/javascript; charset=utf-8'],
  '/app.css': [fileURLToPath(new URL('app.css', PAGES)), 'text/css; charset=utf-8'],
  '/tessera-client.js': [CLIENT_BUNDLE, 'text/javascript; charset=utf-8'],
};

/** A listening static server on 127.0.0.1:`port`. */
export interface StaticServer {
  server: Server;
  close(): Promise<void>;
}

/** Serves the pages on `port`; every other path is a 404. */
export function serveStatic(port: number): Promise<StaticServer> {
  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const file = FILES[path];
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file[0]);
      response.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-store' }).end(body);
    } catch {
      response.writeHead(500).end();
    }
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      resolve({
        server,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
