import { requiredTime } from './required-time.js';

describe('requiredTime', () => {
  it('returns the ISO time and adds what parseTime noted', () => {
    const notes = ['earlier'];
    expect(requiredTime('2025-11-25 16:45:59', 'created_at', 'x', notes)).toBe('2025-11-25T16:45:59.000Z');
    expect(notes).toEqual(['earlier', 'created_at had no time zone; read as UTC']);
  });

  it('is BAD_TIME naming the field and the problem', () => {
    expect(() => requiredTime('yesterday', 'created_at', 'x: event 2', [])).toThrow(
      expect.objectContaining({ code: 'BAD_TIME', message: 'x: event 2: created_at is not a timestamp' }) as Error,
    );
    expect(() => requiredTime(undefined, 'startTime', 'x', [], 'is neither epoch seconds nor a timestamp')).toThrow(
      'x: startTime is neither epoch seconds nor a timestamp',
    );
  });
});
