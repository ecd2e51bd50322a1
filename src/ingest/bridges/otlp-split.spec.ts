import { fixtureBytes } from '../adapters/fixtures/fixture-kit.js';
import { otelAdapter } from '../adapters/otel.adapter.js';
import { countSpans, OtlpRequestError, parseOtlpTraces, splitOtlpTraces } from './otlp-split.js';

describe('splitOtlpTraces', () => {
  it('gives one single-span export per span, each with its resource and scope', () => {
    const doc = parseOtlpTraces(fixtureBytes('otel', 'otlp-current.json'));
    const parts = splitOtlpTraces(doc);
    expect(countSpans(doc)).toBe(3);
    expect(parts).toHaveLength(3);
    for (const p of parts) {
      const d = JSON.parse(p.payload.toString());
      expect(d.resourceSpans).toHaveLength(1);
      expect(d.resourceSpans[0].resource).toEqual((doc.resourceSpans as any)[0].resource);
      expect(d.resourceSpans[0].scopeSpans[0].spans).toHaveLength(1);
      expect(p.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    }
  });

  it('the inference span adapts alone to the same record as in the whole export, but for raw_sha256', () => {
    const raw = (payload: Buffer) => ({ payload, headers: {}, receivedAt: new Date(0) });
    const whole = otelAdapter.adapt(raw(fixtureBytes('otel', 'otlp-current.json')));
    const perSpan = splitOtlpTraces(parseOtlpTraces(fixtureBytes('otel', 'otlp-current.json'))).flatMap((p) =>
      otelAdapter.adapt(raw(p.payload)),
    );
    expect(perSpan).toHaveLength(1);
    const strip = (r: any) => ({ ...r, source: { ...r.source, raw_sha256: undefined } });
    expect(strip(perSpan[0].record)).toEqual(strip(whole[0].record));
  });

  it('keeps the legacy instrumentationLibrarySpans name', () => {
    const doc = {
      resourceSpans: [
        {
          resource: {},
          instrumentationLibrarySpans: [
            { instrumentationLibrary: { name: 'x' }, spans: [{ spanId: 'a' }, { spanId: 'b' }] },
          ],
        },
      ],
    };
    const parts = splitOtlpTraces(doc);
    expect(parts.map((p) => JSON.parse(p.payload.toString()).resourceSpans[0].instrumentationLibrarySpans[0])).toEqual([
      { instrumentationLibrary: { name: 'x' }, spans: [{ spanId: 'a' }] },
      { instrumentationLibrary: { name: 'x' }, spans: [{ spanId: 'b' }] },
    ]);
  });

  it('refuses what is not an OTLP/JSON export, without quoting it', () => {
    expect(() => parseOtlpTraces(Buffer.from('\x0a\x0fprotobuf'))).toThrow(OtlpRequestError);
    expect(() => parseOtlpTraces(Buffer.from('[1]'))).toThrow(OtlpRequestError);
    expect(() => parseOtlpTraces(Buffer.from('{"resourceSpans":{}}'))).toThrow('resourceSpans must be an array');
    expect(splitOtlpTraces(parseOtlpTraces(Buffer.from('{}')))).toEqual([]);
  });
});
