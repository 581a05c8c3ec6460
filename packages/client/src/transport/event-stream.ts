/** One event of a text/event-stream body. */
export interface StreamEvent {
  /** Event name (`message` when the stream gave none). */
  readonly event: string;
  readonly data: string;
}

/**
 * Incremental parser of the text/event-stream format, used for the SSE stream
 * (fetch-based reader) and for long-poll answers. Chunks may split lines and
 * events anywhere; `push` returns the events completed so far.
 */
export class EventStreamParser {
  #partial = '';
  #event = '';
  #data: string[] = [];

  /** Feeds a chunk of text; returns the events it completed. */
  push(chunk: string): StreamEvent[] {
    const out: StreamEvent[] = [];
    const text = this.#partial + chunk;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      let line = text.slice(start, nl);
      start = nl + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.#line(line, out);
    }
    this.#partial = text.slice(start);
    return out;
  }

  #line(line: string, out: StreamEvent[]): void {
    if (line.length === 0) {
      if (this.#data.length > 0) out.push({ event: this.#event || 'message', data: this.#data.join('\n') });
      this.#event = '';
      this.#data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
  }
}
