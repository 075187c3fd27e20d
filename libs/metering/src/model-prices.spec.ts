import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { costUsd, defaultModelPrices, loadPriceTable, priceOf } from './model-prices';

describe('model prices', () => {
  it('prefers an exact name, then the longest matching prefix, case-insensitively', () => {
    assert.deepEqual(priceOf('gpt-4o', [defaultModelPrices]), { inputPerMTokUsd: 2.5, outputPerMTokUsd: 10 });
    assert.deepEqual(priceOf('GPT-4o-mini-2024-07-18', [defaultModelPrices]), { inputPerMTokUsd: 0.15, outputPerMTokUsd: 0.6 });
    assert.deepEqual(priceOf('gpt-4.1-nano', [defaultModelPrices]), { inputPerMTokUsd: 0.1, outputPerMTokUsd: 0.4 });
    assert.equal(priceOf('some-unknown-model', [defaultModelPrices]), undefined);
  });

  it('lets an earlier table (tenant overrides) win at the same specificity', () => {
    const tenant = { 'gpt-4o-mini*': { inputPerMTokUsd: 9, outputPerMTokUsd: 9 } };
    assert.equal(priceOf('gpt-4o-mini-2024', [tenant, defaultModelPrices])?.inputPerMTokUsd, 9);
  });

  it('prices local models at zero and computes cost per million tokens to 8 decimals', () => {
    assert.equal(costUsd(priceOf('local/tinyllama-1.1b-chat', [defaultModelPrices]), 10_000, 10_000), 0);
    assert.equal(costUsd({ inputPerMTokUsd: 3, outputPerMTokUsd: 15 }, 1_234, 567), 0.012207);
    assert.equal(costUsd({ inputPerMTokUsd: 0.15, outputPerMTokUsd: 0.6 }, 1, 0), 0.00000015);
    assert.equal(costUsd(undefined, 1_000, 1_000), 0);
  });

  it('extends the defaults from a JSON file and refuses a bad one with the reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ 'My-Model': { inputPerMTokUsd: 1, outputPerMTokUsd: 2 } }));
    const table = loadPriceTable(good);
    assert.deepEqual(table['my-model'], { inputPerMTokUsd: 1, outputPerMTokUsd: 2 });
    assert.ok(table['gpt-4o'], 'defaults remain');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ x: { inputPerMTokUsd: -1, outputPerMTokUsd: 2 } }));
    assert.throws(() => loadPriceTable(bad), /MODEL_PRICES_FILE .*bad\.json: x\.inputPerMTokUsd/);
    assert.throws(() => loadPriceTable(join(dir, 'missing.json')), /MODEL_PRICES_FILE/);
  });
});
