// The single-file browser build: dist/tessera-client.js, ESM, from the compiled dist/index.js.
// A Node built-in in the graph fails the build: the browser has none.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('../dist/index.js', import.meta.url).pathname],
  outfile: new URL('../dist/tessera-client.js', import.meta.url).pathname,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
