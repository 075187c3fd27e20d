/**
 * A synthetic corpus shaped like real retrieval data, for latency at sizes no real corpus here has:
 * vectors clustered around topic centroids (real embeddings are far from uniform, which is what makes HNSW
 * and filtered search behave as they do in production), and text whose words follow Zipf's law (a few very
 * common words, a long tail) so that lexical posting lists have realistic lengths.
 *
 * Everything is derived from a seed, so two runs with the same options build the same corpus and queries.
 */

/** mulberry32: a small, fast, well-distributed 32-bit PRNG; reproducibility matters here, not crypto. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples by Box–Muller. */
export function gaussian(random: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u = 1 - random();
    const v = random();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };
}

function normalize(vector: Float64Array): Float64Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  const scale = 1 / Math.sqrt(norm || 1);
  for (let index = 0; index < vector.length; index += 1) vector[index] = vector[index]! * scale;
  return vector;
}

export interface VectorSpaceOptions {
  dimensions: number;
  clusters: number;
  /**
   * Noise norm relative to the (unit) centroid. 0.75 puts a point's cosine to its own centroid around 0.8
   * and to other centroids near 0, roughly what sentence embeddings of one topic look like.
   */
  spread: number;
}

/** Topic centroids on the unit sphere; points are a centroid plus isotropic noise, normalised. */
export class ClusteredVectors {
  private readonly centroids: Float64Array[];
  private readonly normal: () => number;

  constructor(
    private readonly options: VectorSpaceOptions,
    private readonly random: () => number,
  ) {
    this.normal = gaussian(random);
    this.centroids = Array.from({ length: options.clusters }, () => normalize(Float64Array.from({ length: options.dimensions }, this.normal)));
  }

  randomCluster(): number {
    return Math.floor(this.random() * this.options.clusters);
  }

  point(cluster: number): Float64Array {
    const centroid = this.centroids[cluster]!;
    const sigma = this.options.spread / Math.sqrt(this.options.dimensions);
    const point = new Float64Array(this.options.dimensions);
    for (let index = 0; index < point.length; index += 1) point[index] = centroid[index]! + sigma * this.normal();
    return normalize(point);
  }
}

/** pgvector's text form with 5 decimals: exact enough for cosine ranking, half the bytes of full floats. */
export function vectorLiteral(vector: ArrayLike<number>): string {
  let text = '[';
  for (let index = 0; index < vector.length; index += 1) {
    if (index > 0) text += ',';
    text += (Math.round(vector[index]! * 1e5) / 1e5).toString();
  }
  return `${text}]`;
}

const consonants = 'bdfgklmnprstvz';
const vowels = 'aeiou';

/**
 * The word of a vocabulary rank: consonant–vowel syllables (base 70 digits of the rank, at least two),
 * ending in a consonant so that the English stemmer leaves most of them alone. Distinct ranks give
 * distinct words; none is an English stop word.
 */
export function syntheticWord(rank: number): string {
  const syllables: string[] = [];
  let rest = rank;
  do {
    const digit = rest % (consonants.length * vowels.length);
    syllables.push(consonants[Math.floor(digit / vowels.length)]! + vowels[digit % vowels.length]!);
    rest = Math.floor(rest / (consonants.length * vowels.length));
  } while (rest > 0 || syllables.length < 2);
  return `${syllables.join('')}x`;
}

/** Samples vocabulary ranks (0 = most frequent) with probability ∝ 1/(rank+1)^exponent. */
export class ZipfSampler {
  private readonly cumulative: Float64Array;

  constructor(
    readonly vocabulary: number,
    exponent: number,
    private readonly random: () => number,
  ) {
    this.cumulative = new Float64Array(vocabulary);
    let total = 0;
    for (let rank = 0; rank < vocabulary; rank += 1) {
      total += 1 / Math.pow(rank + 1, exponent);
      this.cumulative[rank] = total;
    }
    for (let rank = 0; rank < vocabulary; rank += 1) this.cumulative[rank] = this.cumulative[rank]! / total;
  }

  sample(): number {
    const target = this.random();
    let low = 0;
    let high = this.vocabulary - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.cumulative[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  text(words: number): string {
    return Array.from({ length: words }, () => syntheticWord(this.sample())).join(' ');
  }
}
