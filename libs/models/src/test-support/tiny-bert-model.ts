import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'protobufjs';

/**
 * A real, tiny BERT-shaped ONNX model, built from scratch for tests: no ONNX sentence-transformer can be
 * installed here (nothing on npm, no hub access), yet the transformers.js path must run for real.
 *
 * Graph: last_hidden_state = (word_embeddings[input_ids] + token_type_embeddings[token_type_ids])
 *                            * attention_mask[..., None]
 * It has BERT's signature (three int64 [batch, seq] inputs, one float [batch, seq, dim] output), so
 * transformers.js loads it as a `bert` model; tests know the tables and can compute expected vectors.
 */

// The subset of onnx.proto3 this model needs; field numbers as in onnx/onnx.proto3.
const onnxProto = `
syntax = "proto3";
package onnx;
message AttributeProto { string name = 1; int64 i = 3; int32 type = 20; }
message TensorProto {
  repeated int64 dims = 1; int32 data_type = 2; repeated float float_data = 4; repeated int64 int64_data = 7; string name = 8;
}
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
}
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message NodeProto {
  repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4; repeated AttributeProto attribute = 5;
}
message GraphProto {
  repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12;
}
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message ModelProto { int64 ir_version = 1; string producer_name = 2; GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8; }
`;

const FLOAT = 1;
const INT64 = 7;
const ATTRIBUTE_INT = 2;

const specialTokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
const words = [
  'the', 'a', 'cat', 'dog', 'sat', 'ran', 'on', 'in', 'mat', 'park', 'stock', 'market', 'fell', 'sharply',
  'quarterly', 'earnings', 'query', 'passage', ':', '.', '##s',
];

export interface TinyBertModel {
  dir: string;
  dimensions: number;
  /** Token → id, as in tokenizer.json. */
  vocab: ReadonlyMap<string, number>;
  wordEmbeddings: readonly (readonly number[])[];
  tokenTypeEmbeddings: readonly (readonly number[])[];
  /** Longest input the tokenizer lets through, special tokens included. */
  maxLength: number;
}

export function writeTinyBertModel(dimensions = 32, maxLength = 16): TinyBertModel {
  const vocabList = [...specialTokens, ...words];
  const vocab = new Map(vocabList.map((token, id) => [token, id]));
  const random = seededRandom(20240611);
  // float32 values, so the runtime's arithmetic and the test's agree to rounding.
  const table = (rows: number): number[][] =>
    Array.from({ length: rows }, () => Array.from({ length: dimensions }, () => Math.fround(random() * 2 - 1)));
  const wordEmbeddings = table(vocabList.length);
  const tokenTypeEmbeddings = table(2);

  const dir = mkdtempSync(join(tmpdir(), 'quarry-tiny-bert-'));
  mkdirSync(join(dir, 'onnx'));
  writeFileSync(join(dir, 'onnx', 'model.onnx'), encodeModel(wordEmbeddings, tokenTypeEmbeddings, dimensions));
  writeJson(join(dir, 'tokenizer.json'), tokenizerJson(vocab));
  writeJson(join(dir, 'tokenizer_config.json'), {
    tokenizer_class: 'BertTokenizer',
    model_max_length: maxLength,
    do_lower_case: true,
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    mask_token: '[MASK]',
    clean_up_tokenization_spaces: true,
  });
  writeJson(join(dir, 'config.json'), {
    model_type: 'bert',
    architectures: ['BertModel'],
    hidden_size: dimensions,
    vocab_size: vocabList.length,
    type_vocab_size: 2,
    max_position_embeddings: maxLength,
    num_hidden_layers: 1,
    num_attention_heads: 1,
  });
  return { dir, dimensions, vocab, wordEmbeddings, tokenTypeEmbeddings, maxLength };
}

export interface TinyCrossEncoderModel {
  dir: string;
  vocab: ReadonlyMap<string, number>;
  /** Each token's contribution to the score when it appears in the passage (segment B). */
  tokenScores: readonly number[];
  maxLength: number;
}

/**
 * A real, tiny cross-encoder (BertForSequenceClassification's signature: input_ids, attention_mask,
 * token_type_ids → logits [batch, 1]), for the transformers.js reranking path:
 *
 *   logits = Σ_positions token_scores[input_ids] · token_type_ids · attention_mask
 *
 * i.e. the sum of the scores of the passage's tokens (the query is segment A, type 0, and counts nothing).
 * Tests know the scores and compute the expected logits.
 */
export function writeTinyCrossEncoderModel(maxLength = 64): TinyCrossEncoderModel {
  const vocabList = [...specialTokens, ...words];
  const vocab = new Map(vocabList.map((token, id) => [token, id]));
  const random = seededRandom(20261125);
  const tokenScores = vocabList.map((token) => (specialTokens.includes(token as (typeof specialTokens)[number]) ? 0 : Math.fround(random() * 2 - 1)));
  const dir = mkdtempSync(join(tmpdir(), 'quarry-tiny-cross-encoder-'));
  mkdirSync(join(dir, 'onnx'));
  writeFileSync(join(dir, 'onnx', 'model.onnx'), encodeCrossEncoder(tokenScores));
  writeJson(join(dir, 'tokenizer.json'), tokenizerJson(vocab));
  writeJson(join(dir, 'tokenizer_config.json'), {
    tokenizer_class: 'BertTokenizer',
    model_max_length: maxLength,
    do_lower_case: true,
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    mask_token: '[MASK]',
    clean_up_tokenization_spaces: true,
  });
  writeJson(join(dir, 'config.json'), {
    model_type: 'bert',
    architectures: ['BertForSequenceClassification'],
    hidden_size: 4,
    vocab_size: vocabList.length,
    type_vocab_size: 2,
    max_position_embeddings: maxLength,
    num_hidden_layers: 1,
    num_attention_heads: 1,
    id2label: { 0: 'LABEL_0' },
    label2id: { LABEL_0: 0 },
  });
  return { dir, vocab, tokenScores, maxLength };
}

function encodeCrossEncoder(tokenScores: number[]): Uint8Array {
  const ModelProto = parse(onnxProto).root.lookupType('onnx.ModelProto');
  const valueInfo = (name: string, elemType: number, shape: (string | number)[]): object => ({
    name,
    type: { tensorType: { elemType, shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const cast = (input: string, output: string): object => ({ opType: 'Cast', name: output, input: [input], output: [output], attribute: [{ name: 'to', i: FLOAT, type: ATTRIBUTE_INT }] });
  const model = {
    irVersion: 8,
    producerName: 'quarry-tests',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny_cross_encoder',
      initializer: [
        { name: 'token_scores', dims: [tokenScores.length], dataType: FLOAT, floatData: tokenScores },
        { name: 'sequence_axis', dims: [1], dataType: INT64, int64Data: [1] },
      ],
      node: [
        { opType: 'Gather', name: 'scores', input: ['token_scores', 'input_ids'], output: ['scores'] },
        cast('token_type_ids', 'passage'),
        cast('attention_mask', 'mask'),
        { opType: 'Mul', name: 'passage_scores', input: ['scores', 'passage'], output: ['passage_scores'] },
        { opType: 'Mul', name: 'masked', input: ['passage_scores', 'mask'], output: ['masked'] },
        { opType: 'ReduceSum', name: 'logits', input: ['masked', 'sequence_axis'], output: ['logits'], attribute: [{ name: 'keepdims', i: 1, type: ATTRIBUTE_INT }] },
      ],
      input: [
        valueInfo('input_ids', INT64, ['batch', 'sequence']),
        valueInfo('attention_mask', INT64, ['batch', 'sequence']),
        valueInfo('token_type_ids', INT64, ['batch', 'sequence']),
      ],
      output: [valueInfo('logits', FLOAT, ['batch', 1])],
    },
  };
  const problem = ModelProto.verify(model);
  if (problem) throw new Error(`tiny cross-encoder does not match the ONNX schema: ${problem}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

function encodeModel(wordEmbeddings: number[][], tokenTypeEmbeddings: number[][], dimensions: number): Uint8Array {
  const ModelProto = parse(onnxProto).root.lookupType('onnx.ModelProto');
  const tensor = (name: string, rows: number[][]): object => ({
    name,
    dims: [rows.length, dimensions],
    dataType: FLOAT,
    floatData: rows.flat(),
  });
  const valueInfo = (name: string, elemType: number, shape: (string | number)[]): object => ({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
  const model = {
    irVersion: 8,
    producerName: 'quarry-tests',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny_bert',
      initializer: [
        tensor('word_embeddings', wordEmbeddings),
        tensor('token_type_embeddings', tokenTypeEmbeddings),
        { name: 'last_axis', dims: [1], dataType: INT64, int64Data: [-1] },
      ],
      node: [
        { opType: 'Gather', name: 'words', input: ['word_embeddings', 'input_ids'], output: ['words'] },
        { opType: 'Gather', name: 'types', input: ['token_type_embeddings', 'token_type_ids'], output: ['types'] },
        { opType: 'Add', name: 'embeddings', input: ['words', 'types'], output: ['embeddings'] },
        {
          opType: 'Cast',
          name: 'mask_to_float',
          input: ['attention_mask'],
          output: ['mask_float'],
          attribute: [{ name: 'to', i: FLOAT, type: ATTRIBUTE_INT }],
        },
        { opType: 'Unsqueeze', name: 'mask_column', input: ['mask_float', 'last_axis'], output: ['mask'] },
        { opType: 'Mul', name: 'masked', input: ['embeddings', 'mask'], output: ['last_hidden_state'] },
      ],
      input: [
        valueInfo('input_ids', INT64, ['batch', 'sequence']),
        valueInfo('attention_mask', INT64, ['batch', 'sequence']),
        valueInfo('token_type_ids', INT64, ['batch', 'sequence']),
      ],
      output: [valueInfo('last_hidden_state', FLOAT, ['batch', 'sequence', dimensions])],
    },
  };
  const problem = ModelProto.verify(model);
  if (problem) throw new Error(`tiny BERT model does not match the ONNX schema: ${problem}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** A WordPiece tokenizer in the tokenizers-library JSON format, with BERT's normaliser and [CLS] … [SEP]. */
function tokenizerJson(vocab: ReadonlyMap<string, number>): object {
  const id = (token: string): number => vocab.get(token)!;
  const special = (token: string, typeId: number): object => ({ SpecialToken: { id: token, type_id: typeId } });
  const sequence = (name: 'A' | 'B', typeId: number): object => ({ Sequence: { id: name, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialTokens.map((content) => ({
      id: id(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0)],
      pair: [special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0), sequence('B', 1), special('[SEP]', 1)],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  };
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2));
}

/** Park–Miller: the same tables on every run, so a failing assertion fails every time. */
function seededRandom(seed: number): () => number {
  let state = seed % 2147483647;
  return () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
}
