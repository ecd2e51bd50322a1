import { jsonObjectOf, parseJsonText } from './json-value.js';

describe('JSON nested in strings', () => {
  it('parses JSON text and says undefined for anything else, null included as a value', () => {
    expect(parseJsonText('{"a":[1]}')).toEqual({ a: [1] });
    expect(parseJsonText('null')).toBeNull();
    expect(parseJsonText('{"a":')).toBeUndefined();
  });

  it('reads an object given as itself or as JSON text, and nothing else', () => {
    const o = { a: 1 };
    expect(jsonObjectOf(o)).toBe(o);
    expect(jsonObjectOf('{"a":1}')).toEqual(o);
    expect(jsonObjectOf('[1]')).toBeUndefined();
    expect(jsonObjectOf('not json')).toBeUndefined();
    expect(jsonObjectOf(7)).toBeUndefined();
  });
});
