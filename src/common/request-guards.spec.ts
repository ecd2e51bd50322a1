import { MAX_JSON_DEPTH, verifyJsonBody } from './request-guards.js';

describe('verifyJsonBody', () => {
  const check = (text: string) => () => verifyJsonBody(undefined, undefined, Buffer.from(text));
  it('accepts ordinary bodies, brackets inside strings included', () => {
    expect(check('{"a":[1,{"b":"[[[{{{"}]}')).not.toThrow();
    expect(check('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH))).not.toThrow();
  });
  it('refuses deep nesting and U+0000 with a 400', () => {
    expect(check('['.repeat(MAX_JSON_DEPTH + 1))).toThrow(expect.objectContaining({ status: 400 }));
    expect(check('{"a":"x\\u0000y"}')).toThrow(/U\+0000/);
  });
});
