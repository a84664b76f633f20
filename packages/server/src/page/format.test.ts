import { describe, expect, it } from 'vitest';
import { bytes, countdown, relativeTime, waitWords } from './format.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');

describe('relativeTime', () => {
  it('says "just now" within 45 seconds either way', () => {
    expect(relativeTime(NOW - 44_000, NOW, 'en')).toBe('just now');
    expect(relativeTime(NOW + 10_000, NOW, 'en')).toBe('just now');
  });

  it('uses the largest whole unit, past and future', () => {
    expect(relativeTime(NOW - 50_000, NOW, 'en')).toBe('1 minute ago');
    expect(relativeTime(NOW - 5.5 * 60_000, NOW, 'en')).toBe('5 minutes ago');
    expect(relativeTime(NOW - 3 * 3_600_000, NOW, 'en')).toBe('3 hours ago');
    expect(relativeTime(NOW - 86_400_000, NOW, 'en')).toBe('yesterday');
    expect(relativeTime(NOW + 2 * 3_600_000, NOW, 'en')).toBe('in 2 hours');
  });
});

describe('countdown', () => {
  it('minutes and seconds, hours when there are some, never negative', () => {
    expect(countdown(65_000)).toBe('1:05');
    expect(countdown(599_001)).toBe('10:00');
    expect(countdown(3_723_000)).toBe('1:02:03');
    expect(countdown(-5_000)).toBe('0:00');
  });
});

describe('waitWords', () => {
  it('rounds up, in the unit that reads best', () => {
    expect(waitWords(1)).toBe('1 second');
    expect(waitWords(0.2)).toBe('1 second');
    expect(waitWords(30)).toBe('30 seconds');
    expect(waitWords(61)).toBe('2 minutes');
    expect(waitWords(3600)).toBe('1 hour');
  });
});

describe('bytes', () => {
  it('groups digits', () => {
    expect(bytes(4096, 'en')).toBe('4,096 bytes');
  });
});
