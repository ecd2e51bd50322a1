import { datedModelVersion, sameModel } from './model-version.js';

describe('datedModelVersion', () => {
  it.each([
    ['gpt-4o-2024-08-06', 'gpt-4o-2024-08-06'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5-20250929'],
    ['claude-3-5-sonnet@20240620', 'claude-3-5-sonnet@20240620'],
    ['gpt-4o', undefined],
    ['gpt-4o-mini', undefined],
    ['model-12345678', undefined],
    [undefined, undefined],
  ])('%s → %s', (model, want) => {
    expect(datedModelVersion(model)).toBe(want);
  });
});

describe('sameModel', () => {
  it.each([
    ['gpt-4o', 'gpt-4o-2024-08-06', true],
    ['gpt-4o', 'openai/gpt-4o', true],
    ['gpt-4o', 'GPT-4o', true],
    ['gpt-4o', 'gpt-4o-mini', false],
    ['gpt-4o', 'gpt-4o-mini-2024-07-18', false],
    ['claude-sonnet-4-5', 'claude-sonnet-4-5-20250929', true],
  ])('%s answered by %s → %s', (requested, reported, want) => {
    expect(sameModel(requested, reported)).toBe(want);
  });
});
