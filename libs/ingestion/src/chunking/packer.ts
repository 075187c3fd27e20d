import { Boundary, type Segment } from './segments';
import { countTokens } from './tokens';

export interface PackLimits {
  maxTokens: number;
  overlapTokens: number;
}

export interface Span {
  start: number;
  end: number;
}

/**
 * Packs a run of segments into chunk spans of at most maxTokens, each next span starting up to
 * overlapTokens before the previous one ended. A span ends at the strongest boundary that still leaves
 * it at least half full (element, then sentence, then word), and its overlap starts at a sentence when
 * that keeps at least half the overlap. Token sums are estimates (one token per gap); every span is then
 * checked with the real tokenizer, so the limits hold exactly.
 */
export function packSegments(text: string, segments: readonly Segment[], limits: PackLimits): Span[] {
  const packer = new Packer(text, segments, limits);
  return packer.pack();
}

class Packer {
  constructor(
    private readonly text: string,
    private readonly segments: readonly Segment[],
    private readonly limits: PackLimits,
  ) {}

  pack(): Span[] {
    const spans: Span[] = [];
    const count = this.segments.length;
    let first = 0;
    let previousLast = -1;
    while (first < count) {
      let last = this.furthestFit(first);
      if (last < count - 1) last = this.preferredCut(first, last, previousLast);
      // The estimate can undercount; shrink until the real count fits, never giving up the progress made.
      while (countTokens(this.slice(first, last)) > this.limits.maxTokens) {
        if (last > Math.max(first, previousLast + 1)) last--;
        else if (first < last) first++;
        else throw new Error(`a single segment exceeds ${this.limits.maxTokens} tokens`);
      }
      spans.push(this.span(first, last));
      if (last === count - 1) break;
      const next = this.overlapStart(first, last);
      previousLast = last;
      first = next;
    }
    return spans;
  }

  private furthestFit(first: number): number {
    let last = first;
    let tokens = this.at(first).tokens;
    while (last + 1 < this.segments.length) {
      const added = this.gap(last) + this.at(last + 1).tokens;
      if (tokens + added > this.limits.maxTokens) break;
      tokens += added;
      last++;
    }
    return last;
  }

  /** Moves the end back to a stronger boundary if the span stays at least half full and still moves forward. */
  private preferredCut(first: number, last: number, previousLast: number): number {
    const minimum = this.limits.maxTokens / 2;
    for (const strength of [Boundary.Element, Boundary.Sentence]) {
      let tokens = this.estimate(first, last);
      for (let cut = last; cut >= first && cut > previousLast; cut--) {
        if (cut < last) tokens -= this.at(cut + 1).tokens + this.gap(cut);
        if (tokens < minimum) break;
        if (this.at(cut + 1).before >= strength) return cut;
      }
    }
    return last;
  }

  /** Where the next span starts: far enough back to repeat about overlapTokens, close enough to fit what follows. */
  private overlapStart(first: number, last: number): number {
    const following = last + 1;
    const budget = Math.min(
      this.limits.overlapTokens,
      this.limits.maxTokens - this.at(following).tokens - this.gap(last),
    );
    let start = following;
    let tokens = 0;
    let sentenceStart = following;
    let sentenceTokens = 0;
    while (start - 1 > first) {
      const added = this.at(start - 1).tokens + (start - 1 < last ? this.gap(start - 1) : 0);
      if (tokens + added > budget) break;
      tokens += added;
      start--;
      if (this.at(start).before >= Boundary.Sentence) {
        sentenceStart = start;
        sentenceTokens = tokens;
      }
    }
    if (sentenceStart < following && sentenceTokens >= budget / 2) start = sentenceStart;
    while (start <= last && countTokens(this.slice(start, last)) > budget) start++;
    return start;
  }

  private estimate(first: number, last: number): number {
    let tokens = this.at(first).tokens;
    for (let index = first + 1; index <= last; index++) tokens += this.gap(index - 1) + this.at(index).tokens;
    return tokens;
  }

  /** Whitespace between two segments costs about one token; segments cut mid-word touch and cost nothing. */
  private gap(index: number): number {
    return this.at(index + 1).start > this.at(index).end ? 1 : 0;
  }

  private slice(first: number, last: number): string {
    return this.text.slice(this.at(first).start, this.at(last).end);
  }

  private span(first: number, last: number): Span {
    return { start: this.at(first).start, end: this.at(last).end };
  }

  private at(index: number): Segment {
    const segment = this.segments[index];
    if (!segment) throw new RangeError(`segment ${index} out of range`);
    return segment;
  }
}
