import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CONFIG, ConfigError, loadConfig } from '@quarry/core';
import { embeddingEnvSchema, embeddingSettings, loadEmbeddingSettings } from './config';
import { EmbeddingError, type EmbeddingProvider } from './embedding-provider';
import { OpenAiCompatibleEmbeddingProvider } from './openai-compatible.provider';
import { EmbeddingProviders, embeddingProvidersFactory } from './registry';
import { writeTinyBertModel, type TinyBertModel } from './test-support/tiny-bert-model';
import { TransformersEmbeddingProvider } from './transformers.provider';
import { UseLiteEmbeddingProvider } from './use-lite.provider';

const openAi = {
  EMBEDDING_OPENAI_BASE_URL: 'http://tei.internal:8080',
  EMBEDDING_OPENAI_API_KEY: 'sk-secret-value',
  EMBEDDING_OPENAI_MODEL: 'BAAI/bge-base-en-v1.5',
  EMBEDDING_OPENAI_DIMENSIONS: '768',
};

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadEmbeddingSettings(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.problems];
  }
  assert.fail('the configuration was accepted');
}

describe('embedding configuration', () => {
  let tiny: TinyBertModel;
  before(() => {
    tiny = writeTinyBertModel();
  });
  after(() => rmSync(tiny.dir, { recursive: true, force: true }));

  it('serves only the embedded USE-Lite model when nothing is set', () => {
    const providers = EmbeddingProviders.fromSettings(loadEmbeddingSettings({}));
    assert.deepEqual(providers.models, ['use-lite-512']);
    assert.ok(providers.default() instanceof UseLiteEmbeddingProvider);
    assert.equal(providers.default().dimensions, 512);
  });

  it('adds a remote server and a local ONNX model, each under its own id', () => {
    const settings = loadEmbeddingSettings({
      ...openAi,
      EMBEDDING_OPENAI_CONCURRENCY: '8',
      EMBEDDING_ONNX_DIR: tiny.dir,
      EMBEDDING_ONNX_MODEL: 'tiny-bert',
      EMBEDDING_ONNX_POOLING: 'cls',
      EMBEDDING_ONNX_QUERY_PREFIX: 'query: ',
      EMBEDDING_DEFAULT_MODEL: 'tiny-bert',
    });
    assert.equal(settings.openAiCompatible?.concurrency, 8);
    assert.equal(settings.openAiCompatible?.timeoutMs, 30_000);
    assert.equal(settings.transformers?.device, 'cpu');
    assert.equal(settings.transformers?.normalize, true);
    assert.equal(settings.transformers?.queryPrefix, 'query: ');
    const providers = EmbeddingProviders.fromSettings(settings);
    assert.deepEqual(providers.models.sort(), ['BAAI/bge-base-en-v1.5', 'tiny-bert', 'use-lite-512']);
    const remote = providers.get('BAAI/bge-base-en-v1.5');
    assert.ok(remote instanceof OpenAiCompatibleEmbeddingProvider);
    assert.equal(remote.dimensions, 768);
    assert.ok(providers.default() instanceof TransformersEmbeddingProvider);
    assert.equal(providers.default().dimensions, tiny.dimensions);
  });

  it('treats empty variables as unset', () => {
    const settings = loadEmbeddingSettings({ EMBEDDING_OPENAI_BASE_URL: '', EMBEDDING_ONNX_DIR: '', EMBEDDING_DEFAULT_MODEL: '' });
    assert.equal(settings.openAiCompatible, undefined);
    assert.equal(settings.transformers, undefined);
    assert.equal(settings.defaultModel, 'use-lite-512');
  });

  it('names every bad or missing variable at once', () => {
    const problems = problemsOf({
      EMBEDDING_OPENAI_BASE_URL: 'http://tei:8080',
      EMBEDDING_ONNX_DIR: tiny.dir,
      EMBEDDING_DEFAULT_MODEL: 'text-embedding-3-small',
    });
    assert.deepEqual(problems.map((problem) => problem.split(':')[0]).sort(), [
      'EMBEDDING_DEFAULT_MODEL',
      'EMBEDDING_ONNX_MODEL',
      'EMBEDDING_ONNX_POOLING',
      'EMBEDDING_OPENAI_DIMENSIONS',
      'EMBEDDING_OPENAI_MODEL',
    ]);
    const invalid = problemsOf({ EMBEDDING_OPENAI_BASE_URL: 'ftp://x', EMBEDDING_ONNX_DEVICE: 'gpu', EMBEDDING_OPENAI_BATCH_SIZE: '0' });
    assert.deepEqual(invalid.map((problem) => problem.split(':')[0]).sort(), [
      'EMBEDDING_ONNX_DEVICE',
      'EMBEDDING_OPENAI_BASE_URL',
      'EMBEDDING_OPENAI_BATCH_SIZE',
    ]);
  });

  it('refuses two models under one id and never echoes the API key', () => {
    const duplicate = problemsOf({ ...openAi, EMBEDDING_OPENAI_MODEL: 'use-lite-512' });
    assert.ok(duplicate.some((problem) => /use-lite-512 is used twice/.test(problem)), duplicate.join('; '));
    const invalid = problemsOf({ ...openAi, EMBEDDING_OPENAI_DIMENSIONS: 'x', EMBEDDING_DEFAULT_MODEL: 'nope' });
    assert.ok(invalid.some((problem) => problem.startsWith('EMBEDDING_OPENAI_DIMENSIONS')));
    for (const problems of [duplicate, invalid]) assert.ok(!problems.join('\n').includes(openAi.EMBEDDING_OPENAI_API_KEY));
  });

  it("fits into an app's config schema and its NestJS provider", () => {
    const env = loadConfig(embeddingEnvSchema.extend({ PORT: embeddingEnvSchema.shape.EMBEDDING_USE_BATCH_SIZE }), { PORT: '8' });
    assert.equal(env.PORT, 8);
    assert.equal(embeddingSettings(env).defaultModel, 'use-lite-512');
    assert.deepEqual(embeddingProvidersFactory.inject, [CONFIG]);
    const providers = embeddingProvidersFactory.useFactory(env) as EmbeddingProviders;
    assert.ok(providers instanceof EmbeddingProviders);
    assert.equal(providers.default().model, 'use-lite-512');
  });
});

describe('EmbeddingProviders', () => {
  const fake = (model: string): EmbeddingProvider => ({
    model,
    dimensions: 3,
    embed: () => Promise.resolve([]),
    embedWithUsage: () => Promise.resolve({ vectors: [], tokens: 0 }),
    check: () => Promise.resolve(),
  });

  it('finds providers by the id recorded with chunks and refuses unknown ids clearly', () => {
    const providers = new EmbeddingProviders([fake('a'), fake('b')], 'b');
    assert.equal(providers.get('a').model, 'a');
    assert.equal(providers.default().model, 'b');
    assert.equal(providers.all().length, 2);
    assert.throws(
      () => providers.get('old-model'),
      (error: unknown) =>
        error instanceof EmbeddingError &&
        !error.retryable &&
        error.message === 'Embedding model "old-model" is not configured in this deployment (configured: a, b)',
    );
  });

  it('refuses a default it does not have and duplicate ids', () => {
    assert.throws(() => new EmbeddingProviders([fake('a')], 'b'), /default embedding model "b"/);
    assert.throws(() => new EmbeddingProviders([fake('a'), fake('a')], 'a'), /Two embedding providers claim the model id "a"/);
  });
});
