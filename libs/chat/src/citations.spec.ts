import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCitations, StreamingCitationScanner, type CitablePassage } from './citations';

function passage(index: number): CitablePassage {
  return { index, chunkId: `c${index}`, documentId: `d${index}`, documentName: `doc${index}.md`, documentTitle: `Doc ${index}`, headingPath: [], pageStart: index, pageEnd: index };
}

describe('citations', () => {
  const passages = [passage(1), passage(2), passage(3)];

  it('maps markers to passages in order of first citation, each once', () => {
    const parsed = parseCitations('ATP comes from mitochondria [2]. Also [1][2] and [3, 1].', passages);
    assert.deepEqual(parsed.citations.map((citation) => citation.chunkId), ['c2', 'c1', 'c3']);
    assert.equal(parsed.dropped, 0);
    assert.equal(parsed.text, 'ATP comes from mitochondria [2]. Also [1][2] and [3][1].');
  });

  it('drops and counts markers that point at no passage, keeping the valid ones of a list', () => {
    const parsed = parseCitations('Claim [7]. Other [2, 9]. Zero [0].', passages);
    assert.deepEqual(parsed.citations.map((citation) => citation.index), [2]);
    assert.equal(parsed.dropped, 3);
    assert.equal(parsed.text, 'Claim . Other [2]. Zero .');
  });

  it('finds markers split across stream deltas, each valid passage once', () => {
    const scanner = new StreamingCitationScanner(new Map(passages.map((p) => [p.index, p])));
    const seen = ['Mito', 'chondria [', '2', '] make ATP [2][', '5] and [3', ']'].flatMap((delta) => scanner.push(delta).map((c) => c.index));
    assert.deepEqual(seen, [2, 3]);
  });
});
