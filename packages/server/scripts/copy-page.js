// Copies the account page (src/page: HTML, CSS, JS served as they are) into dist/page, where
// the built server reads it: tsc emits only compiled TypeScript, and the published package
// ships `dist` alone. Run by the root `npm run build` after `tsc -b`.
import { cpSync, rmSync } from 'node:fs';

const from = new URL('../src/page/', import.meta.url);
const to = new URL('../dist/page/', import.meta.url);
// A fresh copy, so a file deleted from src/page does not linger in the package.
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
