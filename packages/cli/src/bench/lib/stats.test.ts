import { describe, expect, it } from 'vitest';
import { halfIqr, median, pairedRatio, quantile } from './stats.js';

describe('median', () => {
  it('takes the middle of an odd count, whatever the input order', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([3, 100, 2, 1, 4])).toBe(3);
  });

  it('averages the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, 20])).toBe(15);
  });

  // Sorting with the default comparator orders numbers as strings: [10, 9, 100] would come out [10, 100, 9].
  it('sorts numerically, not as strings', () => {
    expect(median([10, 9, 100])).toBe(10);
  });

  it('leaves its input unsorted', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('is NaN for no samples, so an empty row cannot pass a target', () => {
    expect(median([])).toBeNaN();
  });
});

describe('quantile', () => {
  const xs = [15, 20, 35, 40, 50];

  it('gives the extremes at 0 and 1 and the median at 0.5', () => {
    expect(quantile(xs, 0)).toBe(15);
    expect(quantile(xs, 1)).toBe(50);
    expect(quantile(xs, 0.5)).toBe(35);
  });

  it('interpolates linearly between ranks (R-7)', () => {
    expect(quantile(xs, 0.25)).toBe(20);
    expect(quantile(xs, 0.4)).toBe(29);
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantile([1, 2, 3, 4], 0.75)).toBe(3.25);
    expect(quantile([4, 3, 2, 1], 0.9)).toBeCloseTo(3.7, 12);
  });

  it('agrees with median at 0.5 on an even count', () => {
    expect(quantile([8, 2, 6, 4], 0.5)).toBe(median([8, 2, 6, 4]));
  });
});

describe('halfIqr', () => {
  it('is half the distance between the quartiles', () => {
    expect(halfIqr([1, 2, 3, 4])).toBe(0.75);
    expect(halfIqr([15, 20, 35, 40, 50])).toBe(10);
  });

  it('is not widened by one outlier', () => {
    expect(halfIqr([1, 2, 3, 4, 5, 6, 7, 8, 1_000_000])).toBe(halfIqr([1, 2, 3, 4, 5, 6, 7, 8, 9]));
  });

  it('is zero for identical samples', () => {
    expect(halfIqr([7, 7, 7])).toBe(0);
  });
});

describe('pairedRatio', () => {
  it('is the median of the per-pair ratios, not the ratio of the medians', () => {
    // median(a) / median(b) would be 20 / 10 = 2; the pairs say 10, 1 and 3.
    expect(pairedRatio([10, 20, 30], [1, 20, 10])).toBe(3);
  });

  it('cancels a slow phase that hits both sides of a pair', () => {
    expect(pairedRatio([100, 50, 100], [200, 100, 200])).toBe(0.5);
  });

  it('refuses samples that cannot be paired', () => {
    expect(() => pairedRatio([1, 2], [1])).toThrow(/differ in length/);
  });
});
