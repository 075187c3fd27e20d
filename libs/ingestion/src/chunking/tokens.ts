import { encode, encodeGenerator } from 'gpt-tokenizer/encoding/cl100k_base';
import { CL100K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';

/**
 * Token counting with cl100k_base. Special-token strings such as "<|endoftext|>" inside a document are
 * ordinary text: gpt-tokenizer would otherwise throw on them (and a document must never inject controls).
 */
const asPlainText = { allowedSpecial: new Set<string>(), disallowedSpecial: new Set<string>() };

export function countTokens(text: string): number {
  return encode(text, asPlainText).length;
}

/** A piece of text the tokenizer never splits across tokens of two pieces (a "pre-token": a word, a number run…). */
export interface TokenPiece {
  start: number;
  end: number;
  tokens: number;
}

/**
 * Splits text at the tokenizer's own pre-token boundaries, with each piece's token count. Cutting text
 * only at these boundaries never splits a word's tokens, and gives char offsets without decoding tokens
 * (gpt-tokenizer's decode keeps UTF-8 state between calls, so decoding single tokens is unreliable).
 */
export function tokenPieces(text: string): TokenPiece[] {
  const pieces: TokenPiece[] = [];
  // encodeGenerator yields one token array per pre-token match, in order, when no special tokens are allowed.
  const counts = encodeGenerator(text, asPlainText);
  for (const match of text.matchAll(CL100K_TOKEN_SPLIT_REGEX)) {
    const next = counts.next();
    const tokens = next.done ? countTokens(match[0]) : next.value.length;
    pieces.push({ start: match.index, end: match.index + match[0].length, tokens });
  }
  return pieces;
}
