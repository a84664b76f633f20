/** One Server-Sent Event. */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * An incremental `text/event-stream` parser (WHATWG HTML §9.2.6): feed it chunks, it calls
 * `onEvent` for each complete event. Lines end in CRLF, LF or CR, split across chunks anywhere.
 * Comments (`:` lines) keep the connection alive and are dropped. Lines are bounded so a hostile
 * stream cannot grow memory without limit: a line longer than `maxLine` is dropped whole (with
 * the event it belongs to), never cut into pieces that would parse as fields of their own.
 */
export function createSseParser(onEvent: (event: SseEvent) => void, maxLine = 64 * 1024) {
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  let started = false;
  /** Inside an oversized line: drop everything up to its end. */
  let skipping = false;
  /** The event being built lost a line: do not dispatch it. */
  let broken = false;

  function line(l: string): void {
    if (l === '') {
      if (data.length > 0 && !broken) onEvent({ id, event: event || 'message', data: data.join('\n') });
      data = [];
      event = '';
      broken = false;
      return;
    }
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
  }

  function oversized(): void {
    data = [];
    event = '';
    broken = true;
  }

  const EOL = /\r\n|\r|\n/g;
  /** The last chunk ended in CR: an LF starting the next one completes that CRLF, it is not a line of its own. */
  let afterCR = false;

  return (chunk: string): void => {
    if (chunk === '') return;
    buffer += chunk;
    if (!started) {
      started = true;
      if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
    }
    let start = afterCR && buffer.charCodeAt(0) === 10 ? 1 : 0;
    afterCR = false;
    EOL.lastIndex = start;
    for (;;) {
      const m = EOL.exec(buffer);
      if (m === null) break;
      if (skipping) skipping = false;
      else if (m.index - start > maxLine) oversized();
      else line(buffer.slice(start, m.index));
      start = EOL.lastIndex;
    }
    // Dispatch at once on a trailing CR rather than wait for the next chunk to see whether an LF follows.
    afterCR = start === buffer.length && start > 0 && buffer.charCodeAt(start - 1) === 13;
    buffer = buffer.slice(start);
    if (buffer.length > maxLine) {
      buffer = '';
      if (!skipping) oversized();
      skipping = true;
    }
  };
}
