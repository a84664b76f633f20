// `npm ci` links each workspace's commands before its `prepare` builds `dist/`, and skips a link
// whose file is not there yet: a command pointing into `dist/` would be missing from
// node_modules/.bin after a fresh `npm ci`, and `npx tessera` would fail. Every command must be a
// file kept in the repository.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

it('every command of every workspace is a tracked, executable file outside dist/', () => {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  const tracked = new Set(execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n'));
  const manifests = execFileSync('git', ['ls-files', ...root.workspaces.map((w) => `${w}/package.json`)], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  const commands: string[] = [];
  for (const manifest of manifests) {
    const dir = manifest.slice(0, -'/package.json'.length);
    const { bin } = JSON.parse(readFileSync(join(ROOT, manifest), 'utf8')) as { bin?: Record<string, string> };
    for (const [name, file] of Object.entries(bin ?? {})) {
      const path = join(dir, file);
      commands.push(name);
      expect(path, name).not.toMatch(/\/dist\//);
      expect(tracked.has(path), `${name}: ${path} is in git`).toBe(true);
      expect(statSync(join(ROOT, path)).mode & 0o111, `${name} is executable`).not.toBe(0);
    }
  }
  expect(commands).toEqual(expect.arrayContaining(['tessera', 'tessera-server', 'tessera-demo']));
});
