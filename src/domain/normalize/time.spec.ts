import { parseHttpDate, parseTime } from './time.js';

describe('parseTime', () => {
  it.each<[unknown, string, string[]]>([
    [1764089159.412731, '2025-11-25T16:45:59.412Z', []],
    ['1764089159.9999', '2025-11-25T16:45:59.999Z', []],
    [1764089159, '2025-11-25T16:45:59.000Z', []],
    [
      '2025-11-25 16:45:59.123456',
      '2025-11-25T16:45:59.123Z',
      ['t had no time zone; read as UTC', 't truncated to milliseconds'],
    ],
    ['2025-11-25T16:45:59', '2025-11-25T16:45:59.000Z', ['t had no time zone; read as UTC']],
    ['2025-11-25T16:51:40.118634+00:00', '2025-11-25T16:51:40.118Z', ['t truncated to milliseconds']],
    ['2025-11-25T18:45:59.5+02:00', '2025-11-25T16:45:59.500Z', []],
    ['2025-11-25T11:15:59.000-0530', '2025-11-25T16:45:59.000Z', []],
  ])('%p → %s', (input, iso, notes) => {
    expect(parseTime(input, 't')).toEqual({ iso, notes });
  });

  it.each(['yesterday', '2025-02-30 10:00:00', '2025-11-25T25:00:00Z', -5, Number.NaN, '', null])('refuses %p', (v) => {
    expect(parseTime(v, 't')).toBeUndefined();
  });

  it('reads HTTP dates at second precision', () => {
    expect(parseHttpDate('Fri, 29 Aug 2025 03:48:00 GMT')).toBe('2025-08-29T03:48:00.000Z');
    expect(parseHttpDate('29/08/2025')).toBeUndefined();
  });
});
