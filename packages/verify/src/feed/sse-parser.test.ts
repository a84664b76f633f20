import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSseParser, type SseEvent } from '../index.js';

/** Parses `chunks` with a fresh parser; returns the events. */
function parse(chunks: string[], maxLine?: number): SseEvent[] {
  const events: SseEvent[] = [];
  const feed = createSseParser((e) => events.push(e), maxLine);
  for (const chunk of chunks) feed(chunk);
  return events;
}

/** Cuts `text` at the given offsets (any order, duplicates allowed). */
function split(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(text.slice(from, p));
    from = p;
  }
  chunks.push(text.slice(from));
  return chunks;
}

describe('createSseParser', () => {
  it('parses the auth server’s revocation events', () => {
    const data = JSON.stringify({ cursor: '12', sid: 's1', sub: null, not_before: 1, until: 2 });
    expect(parse([': connected\n\n', `id: 12\nevent: revocation\ndata: ${data}\n\n`])).toEqual([{ id: '12', event: 'revocation', data }]);
  });

  it('accepts CRLF, LF and lone CR line endings, mixed', () => {
    const stream = 'event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\rdata: 3\n\n';
    expect(parse([stream])).toEqual([
      { id: undefined, event: 'a', data: '1' },
      { id: undefined, event: 'b', data: '2' },
      { id: undefined, event: 'message', data: '3' },
    ]);
  });

  it('joins multi-line data with LF', () => {
    expect(parse(['data: first\ndata:second\ndata\ndata:  indented\n\n'])).toEqual([
      { id: undefined, event: 'message', data: 'first\nsecond\n\n indented' },
    ]);
  });

  it('drops comments, unknown fields and events without data', () => {
    expect(parse([': ping\n\n', 'retry: 1000\n\n', 'event: revocation\n\n', ':only a comment\ndata: x\n: trailing\n\n'])).toEqual([
      { id: undefined, event: 'message', data: 'x' },
    ]);
  });

  it('an id without data dispatches nothing but becomes the last event id; an id with NUL is ignored', () => {
    expect(parse(['id: 7\n\n', 'data: a\n\n', 'id: 8\0\ndata: b\n\n', 'id\ndata: c\n\n'])).toEqual([
      { id: '7', event: 'message', data: 'a' },
      { id: '7', event: 'message', data: 'b' },
      { id: '', event: 'message', data: 'c' },
    ]);
  });

  it('resets the event type after each dispatch, and never dispatches an unterminated event', () => {
    expect(parse(['event: revocation\ndata: 1\n\ndata: 2\n\ndata: 3\n'])).toEqual([
      { id: undefined, event: 'revocation', data: '1' },
      { id: undefined, event: 'message', data: '2' },
    ]);
  });

  it('strips one leading byte-order mark', () => {
    expect(parse(['\uFEFF', 'data: x\n\n'])).toEqual([{ id: undefined, event: 'message', data: 'x' }]);
  });

  it('a CRLF split between chunks is one line ending, not two', () => {
    expect(parse(['data: a\r', '\n', 'data: b\r', '\n\r', '\n'])).toEqual([{ id: undefined, event: 'message', data: 'a\nb' }]);
  });

  it('dispatches on a trailing CR at once, without waiting for the next chunk', () => {
    const events: SseEvent[] = [];
    const feed = createSseParser((e) => events.push(e));
    feed('data: now\r\r');
    expect(events).toEqual([{ id: undefined, event: 'message', data: 'now' }]);
    feed('\ndata: later\r\n\r\n');
    expect(events.map((e) => e.data)).toEqual(['now', 'later']);
  });

  describe('oversized lines', () => {
    it('drops a line longer than maxLine with its event, and parses what follows', () => {
      const long = `data: ${'x'.repeat(200)}`;
      const events = parse([`data: keep\n\n${long.slice(0, 90)}`, long.slice(90), '\ndata: more\n\n', 'data: next\n\n'], 64);
      expect(events).toEqual([
        { id: undefined, event: 'message', data: 'keep' },
        { id: undefined, event: 'message', data: 'next' },
      ]);
    });

    it('never parses the tail of a dropped line as a field of its own', () => {
      // The tail after the cut looks like an event; it is the inside of a comment line.
      const events = parse([`: ${'x'.repeat(100)}`, 'data: injected\n', '\n', 'data: real\n\n'], 64);
      expect(events).toEqual([{ id: undefined, event: 'message', data: 'real' }]);
    });

    it('keeps memory bounded while a hostile peer streams one endless line', () => {
      const events: SseEvent[] = [];
      const feed = createSseParser((e) => events.push(e), 1024);
      const chunk = 'y'.repeat(64 * 1024);
      const started = performance.now();
      feed('data: ');
      for (let i = 0; i < 200; i++) feed(chunk); // 12.5 MiB without a line ending
      feed('\n\ndata: after\n\n');
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(events).toEqual([{ id: undefined, event: 'message', data: 'after' }]);
    });
  });

  describe('properties', () => {
    const text = fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ''));
    const event = fc.record({
      id: fc.option(
        text.map((s) => s.replace(/\0/g, '')),
        { nil: undefined },
      ),
      event: fc.option(text, { nil: undefined }),
      data: fc.array(text, { minLength: 1, maxLength: 4 }),
      comment: fc.option(text, { nil: undefined }),
    });
    const eol = fc.constantFrom('\n', '\r\n', '\r');

    function serialize(
      events: { id?: string | undefined; event?: string | undefined; data: string[]; comment?: string | undefined }[],
      end: string,
    ) {
      let out = '';
      for (const e of events) {
        if (e.comment !== undefined) out += `:${e.comment}${end}`;
        if (e.id !== undefined) out += `id: ${e.id}${end}`;
        if (e.event !== undefined) out += `event: ${e.event}${end}`;
        for (const d of e.data) out += `data: ${d}${end}`;
        out += end;
      }
      return out;
    }

    it('parses what was serialized: data, event type, sticky id', () => {
      fc.assert(
        fc.property(fc.array(event, { maxLength: 8 }), eol, (events, end) => {
          let lastId: string | undefined;
          const expected = events.map((e) => {
            if (e.id !== undefined) lastId = e.id;
            return { id: lastId, event: e.event || 'message', data: e.data.join('\n') };
          });
          expect(parse([serialize(events, end)])).toEqual(expected);
        }),
        { numRuns: 300 },
      );
    });

    it('splitting a stream at any points yields the same events', () => {
      fc.assert(
        fc.property(fc.array(event, { maxLength: 8 }), eol, fc.array(fc.nat(), { maxLength: 30 }), (events, end, cuts) => {
          const stream = serialize(events, end);
          expect(parse(split(stream, cuts))).toEqual(parse([stream]));
        }),
        { numRuns: 500 },
      );
    });

    it('splitting is invariant with oversized lines too (small maxLine)', () => {
      const long = fc.string({ maxLength: 60 }).map((s) => s.replace(/[\r\n]/g, ''));
      const stream = fc
        .array(
          fc.tuple(fc.constantFrom('data: ', 'id: ', ': ', 'event: ', ''), long, fc.constantFrom('\n', '\r\n', '\r', '\n\n', '\r\n\r\n')),
          {
            maxLength: 20,
          },
        )
        .map((lines) => lines.map(([f, v, e]) => f + v + e).join(''));
      fc.assert(
        fc.property(stream, fc.array(fc.nat(), { maxLength: 30 }), (s, cuts) => {
          // A CR at the very end could still become a CRLF: end the stream unambiguously.
          const whole = `${s}\n\n`;
          expect(parse(split(whole, cuts), 24)).toEqual(parse([whole], 24));
        }),
        { numRuns: 500 },
      );
    });
  });
});
