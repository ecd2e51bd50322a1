import { requestIdFor } from './request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdFor', () => {
  it('keeps a plausible incoming id', () => {
    expect(requestIdFor('req-42_abc.DEF:1')).toBe('req-42_abc.DEF:1');
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['with a space', 'a b'],
    ['with a newline', 'a\n{"level":"error"}'],
    ['too long', 'x'.repeat(129)],
    ['repeated', ['a', 'b']],
  ])('replaces an id that is %s with a new UUID', (_what, incoming) => {
    const id = requestIdFor(incoming);
    expect(id).toMatch(UUID);
    expect(requestIdFor(incoming)).not.toBe(id);
  });
});
