// Builds the account page into dist/page, where the server reads it (the published package ships
// `dist` alone): src/page/account.ts bundled by esbuild with @tessera/client and bowser into one
// classic script (account.js), and the HTML and CSS copied as they are. Nothing the page needs is
// left to install: the installed server serves these three files only. Run by the root
// `npm run build` after `tsc -b` (which compiles @tessera/client's dist/index.js, bundled here);
// type-checking the page is `npm run typecheck`'s job (src/page/tsconfig.json).
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const src = fileURLToPath(new URL('../src/page/', import.meta.url));
const out = fileURLToPath(new URL('../dist/page/', import.meta.url));
/** Exactly what `routes/page.ts` serves. */
const FILES = ['account.html', 'account.css', 'account.js'];

mkdirSync(out, { recursive: true });
await build({
  entryPoints: [`${src}account.ts`],
  outfile: `${out}account.js`,
  bundle: true,
  // Loaded by <script defer>, not as a module: one self-contained function scope.
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  // The bundled libraries' license headers (bowser's MIT notice) stay, gathered at the end.
  legalComments: 'eof',
  tsconfig: `${src}tsconfig.json`,
  logLevel: 'warning',
});
for (const file of ['account.html', 'account.css']) copyFileSync(`${src}${file}`, `${out}${file}`);
// Written in place rather than into a fresh directory, so a server started from this tree never
// finds the page missing mid-build; whatever an older build left that is not served goes.
for (const file of readdirSync(out)) {
  if (!FILES.includes(file)) rmSync(`${out}${file}`, { recursive: true, force: true });
}
