import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { countTokens, tokenPieces } from './tokens';

describe('tokens', () => {
  it('counts cl100k_base tokens', () => {
    assert.equal(countTokens('hello world'), encode('hello world').length);
    assert.equal(countTokens('hello world'), 2);
  });

  it('counts special-token strings in documents as ordinary text instead of throwing', () => {
    assert.throws(() => encode('see <|endoftext|> here'));
    assert.ok(countTokens('see <|endoftext|> here') > 3);
  });

  it('cuts text into pre-token pieces that tile it and add up to its token count', () => {
    const text = 'Ünïcödé 😀🎉 text, numbers 1234567 and\n\n  indented <|endoftext|> 日本語のテキスト.';
    const pieces = tokenPieces(text);
    assert.equal(pieces.map((piece) => text.slice(piece.start, piece.end)).join(''), text);
    pieces.forEach((piece, index) => assert.equal(piece.start, index === 0 ? 0 : pieces[index - 1]?.end));
    assert.equal(pieces.reduce((sum, piece) => sum + piece.tokens, 0), countTokens(text));
  });
});
