import { costAmount } from './cost.js';

describe('costAmount', () => {
  it('converts cents, and leaves out what the record cannot hold exactly', () => {
    expect(costAmount(0.0825, 'cost', -2)).toEqual({ amount: '0.000825' });
    expect(costAmount('1e-30', 'cost')).toEqual({ note: expect.stringContaining('left out rather than rounded') });
    expect(costAmount('lots', 'cost')).toEqual({ note: 'cost is not a number; cost left out' });
    expect(costAmount(null, 'cost')).toEqual({});
  });
});
