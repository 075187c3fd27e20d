export type ParsedElementKind = 'title' | 'heading' | 'paragraph' | 'list_item' | 'table' | 'code';

/** One block of a document, in reading order. */
export interface ParsedElement {
  kind: ParsedElementKind;
  /** Plain text. Tables are one line per row, cells joined by ` | `; the first line is the header. */
  text: string;
  /**
   * The headings this element sits under, outermost first. A heading's own path ends with itself,
   * so a heading and the body below it share one path and form one section.
   */
  headingPath: string[];
  /** 1-based page number, for formats that have pages. */
  page?: number;
  /** Heading level, 1 = outermost. */
  level?: number;
}

export interface ParsedDocument {
  elements: ParsedElement[];
  pageCount?: number;
  title?: string;
}

export interface ParseInput {
  bytes: Uint8Array;
  filename: string;
  mimeType?: string;
}

/** Anything that turns uploaded bytes into a ParsedDocument: the local worker pool, a remote API. */
export interface DocumentParser {
  parse(input: ParseInput): Promise<ParsedDocument>;
}

/** A parser for one built-in format. Pure: the same bytes always give the same document. */
export type FormatParser = (bytes: Uint8Array, filename: string) => Promise<ParsedDocument>;

export const parseFailureReasons = [
  'unsupported',
  'corrupt',
  'encrypted',
  'empty',
  'timeout',
  'out_of_memory',
  'too_large',
] as const;
export type ParseFailureReason = (typeof parseFailureReasons)[number];

/**
 * The file itself cannot be parsed, and parsing it again would fail the same way: the job must not retry.
 * A timeout or memory failure counts too, because the budget is per file and the file is what exceeded it.
 */
export class ParseError extends Error {
  readonly permanent = true;

  constructor(
    readonly reason: ParseFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ParseError';
  }
}

/** The parser could not answer right now (rate limit, provider outage, network); retrying later may work. */
export class TransientParseError extends Error {
  readonly permanent = false;
  /** HTTP status from a remote parser, when there was a response at all. */
  readonly status: number | undefined;
  /** How long the provider asked us to wait (Retry-After), if it said. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options?: { cause?: unknown; status?: number; retryAfterMs?: number }) {
    super(message, { cause: options?.cause });
    this.name = 'TransientParseError';
    this.status = options?.status;
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export function isParseFailureReason(value: unknown): value is ParseFailureReason {
  return typeof value === 'string' && (parseFailureReasons as readonly string[]).includes(value);
}
