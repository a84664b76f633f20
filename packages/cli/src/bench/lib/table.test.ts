import { describe, expect, it } from 'vitest';
import { markdownTable, plainTable } from './table.js';

describe('markdownTable', () => {
  it('pads every column to its widest cell, names left and numbers right', () => {
    const cells = [
      ['row', 'req/s', 'target'],
      ['GET /healthz', '41795', '—'],
      ['GET /v1/me', '950', '≥ 80%'],
    ];
    expect(markdownTable(cells, { left: [0, 2] })).toEqual([
      '| row          | req/s | target |',
      '|--------------|-------|--------|',
      '| GET /healthz | 41795 | —      |',
      '| GET /v1/me   |   950 | ≥ 80%  |',
    ]);
  });
});

describe('plainTable', () => {
  it('sets groups apart with an empty line under a dashed rule', () => {
    const cells = [
      ['alg', 'impl', 'µs/op'],
      ['HS256', 'raw', '5.00'],
      ['HS256', 'tessera', '5.26'],
      ['ES256', 'raw', '41.10'],
    ];
    expect(plainTable(cells, { left: [0, 1], group: (row) => row[0] as string })).toEqual([
      'alg    impl     µs/op',
      '-----  -------  -----',
      'HS256  raw       5.00',
      'HS256  tessera   5.26',
      '',
      'ES256  raw      41.10',
    ]);
  });
});
