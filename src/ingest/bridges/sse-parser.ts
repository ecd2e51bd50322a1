/**
 * An incremental text/event-stream parser (WHATWG HTML "Server-sent events", §9.2.6), for the
 * Portkey gateway's `GET /log/stream`. Pure: feed decoded text as it arrives, get the events
 * dispatched so far. Lines end with CRLF, LF or CR; `data` lines of one event are joined with LF;
 * comments (lines starting with ':') and unknown fields are ignored; an event without data is not
 * dispatched; a stream that ends mid-event drops that event, as browsers do.
 */

export interface SseEvent {
  /** "message" when the event named none. */
  event: string;
  data: string;
  /** The last event id seen on the stream so far (SSE ids persist across events). */
  id?: string;
}

export class SseParser {
  private buffer = '';
  /** A CR ended the previous chunk: a LF opening this one belongs to it. */
  private pendingCr = false;
  private data: string[] = [];
  private event = '';
  private lastId?: string;
  /** The server's reconnection delay (`retry:` field), when it sent one. */
  retryMs?: number;

  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) {
        this.pendingCr = true;
      }
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const data = this.data;
    const event = this.event || 'message';
    this.data = [];
    this.event = '';
    if (data.length === 0) return undefined;
    return { event, data: data.join('\n'), ...(this.lastId !== undefined ? { id: this.lastId } : {}) };
  }
}
