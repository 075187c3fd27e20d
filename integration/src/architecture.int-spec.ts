import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');
const depcruise = path.join(root, 'node_modules/.bin/depcruise');

async function cruise(target: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(depcruise, ['--config', '.dependency-cruiser.cjs', target], { cwd: root });
    return { code: 0, output: stdout };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string };
    return { code: failure.code ?? 1, output: failure.stdout ?? '' };
  }
}

/** Proves the architecture check in `npm test` really fails on a forbidden import (not just that it passes). */
describe('architecture rules', () => {
  const cases = [
    { file: 'libs/core/src', source: "import { AuthGuard } from '@quarry/identity';\nexport const probe = AuthGuard;\n", rule: 'lib-core-dependencies' },
    { file: 'libs/identity/src', source: "import { createApp } from '../../../apps/api/src/main';\nexport const probe = createApp;\n", rule: 'libs-never-import-apps' },
    { file: 'libs/models/src', source: "import { Database } from '@quarry/db';\nexport const probe = Database;\n", rule: 'lib-models-dependencies' },
  ];

  for (const { file, source, rule } of cases) {
    it(`${rule} fails the check`, async () => {
      const probe = path.join(root, file, `zz-architecture-probe-${process.pid}.ts`);
      await writeFile(probe, source);
      try {
        const result = await cruise(path.relative(root, probe));
        assert.notEqual(result.code, 0, result.output);
        assert.match(result.output, new RegExp(rule));
      } finally {
        await rm(probe, { force: true });
      }
    });
  }

  it('the real tree passes', async () => {
    const result = await cruise('libs');
    assert.equal(result.code, 0, result.output);
  });
});
