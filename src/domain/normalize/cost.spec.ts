import { costAmount, costAmountNoted, gatewayCost } from './cost.js';

describe('costAmount', () => {
  it('converts cents, and leaves out what the record cannot hold exactly', () => {
    expect(costAmount(0.0825, 'cost', -2)).toEqual({ amount: '0.000825' });
    expect(costAmount('1e-30', 'cost')).toEqual({ note: expect.stringContaining('left out rather than rounded') });
    expect(costAmount('lots', 'cost')).toEqual({ note: 'cost is not a number; cost left out' });
    expect(costAmount(null, 'cost')).toEqual({});
  });
});

describe('costAmountNoted and gatewayCost', () => {
  it('gives the amount, or notes why there is none', () => {
    const notes: string[] = [];
    expect(costAmountNoted('12', 'cost (cents)', notes, -2)).toBe('0.12');
    expect(costAmountNoted('lots', 'total_cost', notes)).toBeUndefined();
    expect(costAmountNoted(undefined, 'total_cost', notes)).toBeUndefined();
    expect(notes).toEqual(['total_cost is not a number; cost left out']);
  });

  it('records a gateway amount in USD unless a currency is named, and nothing without an amount', () => {
    expect(gatewayCost('0.5')).toEqual({ amount: '0.5', currency: 'USD', source: 'gateway' });
    expect(gatewayCost('0.5', 'EUR')).toEqual({ amount: '0.5', currency: 'EUR', source: 'gateway' });
    expect(gatewayCost(undefined)).toBeUndefined();
  });
});
