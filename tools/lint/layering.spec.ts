import { ESLint } from 'eslint';

// The layering rules of eslint.config.js, exercised on code that breaks them: a rule that
// stopped matching would let the product depend on the bench or the domain on a database.
const eslint = new ESLint();

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering rules', () => {
  it('keeps NestJS, TypeORM, pg and kafkajs out of src/domain', async () => {
    for (const pkg of ['@nestjs/common', 'typeorm', 'pg', 'pg-copy-streams', 'kafkajs']) {
      const found = await restrictedImports(
        'src/domain/merkle/x.ts',
        `import * as m from '${pkg}';\nexport const x = m;\n`,
      );
      expect(found).toHaveLength(1);
      expect(found[0]).toContain('src/domain is pure');
    }
  });

  it('allows those packages outside src/domain', async () => {
    expect(await restrictedImports('src/ledger/x.ts', `import * as m from 'typeorm';\nexport const x = m;\n`)).toEqual(
      [],
    );
  });

  it('keeps bench/, test/ and tools/ out of src, domain included', async () => {
    for (const [file, from] of [
      ['src/ledger/x.ts', '../../bench/lib/hooks.js'],
      ['src/x.ts', '../test/support/service-env.js'],
      ['src/domain/merkle/x.ts', '../../../tools/dev-kafka/dev-kafka.js'],
    ]) {
      const found = await restrictedImports(file, `import * as m from '${from}';\nexport const x = m;\n`);
      expect(found).toEqual([expect.stringContaining('src must not import from bench/, test/ or tools/')]);
    }
  });

  it('lets specs use the shared test fixtures', async () => {
    const code = `import * as m from '../../../test/fixtures/sample-record.js';\nexport const x = m;\n`;
    expect(await restrictedImports('src/domain/record/x.spec.ts', code)).toEqual([]);
  });
});
