// The statistics every benchmark reports with. Medians and paired ratios rather than means: on a
// shared machine a burst from another process lands in one sample, and a median does not move
// for it, while a mean does.

/** The middle value (the mean of the two middle values for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * The `q` quantile (0 ≤ q ≤ 1), interpolated linearly between the two nearest ranks (the
 * "R-7" definition, the one spreadsheets use); NaN when empty.
 *
 * @example quantile([1, 2, 3, 4], 0.25) // 1.75
 */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return (s[lo] as number) + ((s[Math.ceil(at)] as number) - (s[lo] as number)) * (at - lo);
}

/** Half the interquartile range: a spread that a single outlier does not widen, unlike the standard deviation. */
export function halfIqr(xs: readonly number[]): number {
  return (quantile(xs, 0.75) - quantile(xs, 0.25)) / 2;
}

/**
 * `a` over `b`, paired: the ratio of the two samples taken side by side (same index), then the
 * median of those ratios. A slow phase of the machine slows both sides of a pair together, so it
 * cancels out of the ratio, where it would not in `median(a) / median(b)`.
 *
 * @example pairedRatio([10, 20, 40], [5, 10, 10]) // median(2, 2, 4) = 2
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`paired samples differ in length: ${a.length} and ${b.length}`);
  return median(a.map((x, i) => x / (b[i] as number)));
}
