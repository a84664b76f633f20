import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonObject, writeJsonAtomically } from './persisted-file.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-persisted-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeJsonAtomically', () => {
  it('creates the directory, writes the JSON, and leaves no temporary file', () => {
    const file = join(dir, 'a', 'b', 'state.json');
    writeJsonAtomically(file, { cursor: '1', rules: [] });
    writeJsonAtomically(file, { cursor: '2', rules: [] });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ cursor: '2', rules: [] });
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['state.json']);
  });

  it('leaves the previous file whole, and no temporary file, when the write fails', () => {
    const file = join(dir, 'kept.json');
    writeJsonAtomically(file, { keys: [] });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => writeJsonAtomically(file, circular)).toThrow();
    // The rename target is a directory: the rename fails after the temporary file was written.
    const blocked = join(dir, 'blocked');
    writeJsonAtomically(join(blocked, 'inner.json'), {});
    expect(() => writeJsonAtomically(blocked, { x: 1 })).toThrow();
    expect(readJsonObject(file)).toEqual({ keys: [] });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('gives the file the default mode, like any file the service writes', () => {
    const file = join(dir, 'mode.json');
    writeJsonAtomically(file, {});
    const plain = join(dir, 'plain.json');
    writeFileSync(plain, '{}');
    expect(statSync(file).mode).toBe(statSync(plain).mode);
  });
});

describe('readJsonObject', () => {
  it('reads a JSON object back', () => {
    const file = join(dir, 'ok.json');
    writeJsonAtomically(file, { fetchedAt: 1, jwks: { keys: [] } });
    expect(readJsonObject(file)).toEqual({ fetchedAt: 1, jwks: { keys: [] } });
  });

  it('a missing, unreadable, torn or non-object file reads as absent', () => {
    expect(readJsonObject(join(dir, 'missing.json'))).toBeUndefined();
    expect(readJsonObject(dir)).toBeUndefined(); // a directory
    for (const junk of ['', '{"fetchedAt": 1, "jwks": ', 'null', '42', '"text"', '[{"cursor": "1"}]']) {
      const file = join(dir, 'junk.json');
      writeFileSync(file, junk);
      expect(readJsonObject(file), junk).toBeUndefined();
    }
  });
});
