import { SseParser } from './sse-parser.js';

describe('SseParser', () => {
  it('reads the Portkey gateway stream: connected, heartbeat and log events with ids', () => {
    const p = new SseParser();
    const out = p.push(
      'event: connected\ndata: 1764089458870\n\nevent: heartbeat\ndata: pulse\n\nevent: log\ndata: {"status":200}\nid: 0\n\n',
    );
    expect(out).toEqual([
      { event: 'connected', data: '1764089458870' },
      { event: 'heartbeat', data: 'pulse' },
      { event: 'log', data: '{"status":200}', id: '0' },
    ]);
  });

  it('joins data lines, ignores comments, keeps events split across chunks and CRLF', () => {
    const p = new SseParser();
    expect(p.push(': keep-alive\r\ndata: a\r')).toEqual([]);
    expect(p.push('\ndata: b\r\n')).toEqual([]);
    expect(p.push('\r\n')).toEqual([{ event: 'message', data: 'a\nb' }]);
  });

  it('drops an event without data and reads retry', () => {
    const p = new SseParser();
    expect(p.push('event: log\n\nretry: 2500\n\n')).toEqual([]);
    expect(p.retryMs).toBe(2500);
  });

  it('a field without a colon has an empty value; one leading space is removed', () => {
    const p = new SseParser();
    expect(p.push('data\ndata:  x\n\n')).toEqual([{ event: 'message', data: '\n x' }]);
  });
});
