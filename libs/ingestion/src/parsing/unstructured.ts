import { load } from 'cheerio';
import { UnstructuredClient } from 'unstructured-client';
import { HTTPClientError, UnstructuredClientError } from 'unstructured-client/sdk/models/errors';
import { Strategy } from 'unstructured-client/sdk/models/shared';
import { HeadingTrail } from './heading-trail';
import { tableText } from './html-structure';
import { collapseWhitespace } from './text-utils';
import {
  ParseError,
  TransientParseError,
  type DocumentParser,
  type ParseInput,
  type ParsedDocument,
  type ParsedElement,
  type ParsedElementKind,
} from './types';

export type UnstructuredStrategy = 'auto' | 'hi_res' | 'fast';

export interface UnstructuredParserOptions {
  /** Base URL of the Unstructured API (self-hosted or SaaS), without the /general/v0/general path. */
  serverURL: string;
  apiKey?: string;
  /** 'fast' reads the text layer, 'hi_res' runs layout detection and OCR, 'auto' picks per file. Default 'auto'. */
  strategy?: UnstructuredStrategy;
  /** Per request. hi_res on a long scan takes minutes. Default 300 s. */
  timeoutMs?: number;
  /**
   * Let the SDK split PDFs into page batches sent in parallel. Off by default: the split path retries
   * 5xx on its own with long backoffs, while our jobs already own retrying.
   */
  splitPdfPage?: boolean;
}

const strategies: Readonly<Record<UnstructuredStrategy, Strategy>> = {
  auto: Strategy.Auto,
  hi_res: Strategy.HiRes,
  fast: Strategy.Fast,
};

/** Element types that are page furniture or carry no text worth indexing. */
const skippedTypes = new Set(['Header', 'Footer', 'PageBreak', 'PageNumber', 'Image']);

const kindsByType: Readonly<Record<string, ParsedElementKind>> = {
  NarrativeText: 'paragraph',
  UncategorizedText: 'paragraph',
  Text: 'paragraph',
  FigureCaption: 'paragraph',
  Address: 'paragraph',
  EmailAddress: 'paragraph',
  Formula: 'paragraph',
  ListItem: 'list_item',
  Table: 'table',
  CodeSnippet: 'code',
};

/**
 * Parses through the Unstructured API (for scans, slides and layouts the built-in parsers cannot read).
 * A file the API rejects (4xx) fails permanently; rate limits, outages and network errors are transient.
 * The SDK's own retries are off: the ingestion job decides when to try again.
 */
export class UnstructuredParser implements DocumentParser {
  private readonly client: UnstructuredClient;
  private readonly strategy: Strategy;
  private readonly splitPdfPage: boolean;

  constructor(options: UnstructuredParserOptions) {
    this.client = new UnstructuredClient({
      serverURL: options.serverURL,
      ...(options.apiKey ? { security: { apiKeyAuth: options.apiKey } } : {}),
      retryConfig: { strategy: 'none' },
      timeoutMs: options.timeoutMs ?? 300_000,
    });
    this.strategy = strategies[options.strategy ?? 'auto'];
    this.splitPdfPage = options.splitPdfPage ?? false;
  }

  async parse(input: ParseInput): Promise<ParsedDocument> {
    let response: unknown;
    try {
      response = await this.client.general.partition({
        partitionParameters: {
          files: { content: input.bytes, fileName: input.filename },
          strategy: this.strategy,
          splitPdfPage: this.splitPdfPage,
        },
      });
    } catch (error) {
      throw classifyUnstructuredError(error, input.filename);
    }
    if (!Array.isArray(response)) {
      throw new TransientParseError(`Unstructured answered ${input.filename} with something other than a JSON list`);
    }
    const document = documentFromUnstructured(response);
    if (document.elements.length === 0) throw new ParseError('empty', `${input.filename} contains no extractable text`);
    return document;
  }
}

interface UnstructuredElement {
  type?: unknown;
  text?: unknown;
  metadata?: { page_number?: unknown; category_depth?: unknown; text_as_html?: unknown };
}

/** Maps Unstructured's element list (in reading order) to our elements; Titles build the heading path. */
export function documentFromUnstructured(items: readonly unknown[]): ParsedDocument {
  const trail = new HeadingTrail();
  const elements: ParsedElement[] = [];
  let pageCount = 0;
  for (const item of items) {
    if (typeof item !== 'object' || item === null) continue;
    const element = item as UnstructuredElement;
    const type = typeof element.type === 'string' ? element.type : '';
    if (skippedTypes.has(type)) continue;
    const page = positiveInteger(element.metadata?.page_number);
    if (page !== undefined) pageCount = Math.max(pageCount, page);
    const pageField = page !== undefined ? { page } : {};
    if (type === 'Title') {
      const text = collapseWhitespace(stringOr(element.text));
      if (!text) continue;
      // category_depth 0 is the outermost title.
      const level = Math.min((nonNegativeInteger(element.metadata?.category_depth) ?? 0) + 1, 6);
      elements.push({ kind: 'heading', text, headingPath: trail.enter(level, text), level, ...pageField });
      continue;
    }
    const kind = kindsByType[type] ?? 'paragraph';
    const text = kind === 'table' ? tableFromElement(element) : kind === 'code' ? stringOr(element.text).trim() : collapseWhitespace(stringOr(element.text));
    if (text) elements.push({ kind, text, headingPath: trail.path(), ...pageField });
  }
  return { elements, ...(pageCount > 0 ? { pageCount } : {}) };
}

/** The HTML rendering keeps rows and cells apart; the plain text of a table does not, so prefer the HTML. */
function tableFromElement(element: UnstructuredElement): string {
  const html = element.metadata?.text_as_html;
  if (typeof html === 'string' && html.includes('<table')) {
    const $ = load(html);
    const table = $('table').first()[0];
    const text = table ? tableText($, table) : '';
    if (text) return text;
  }
  return collapseWhitespace(stringOr(element.text));
}

/** Permanent when the API says the file is the problem (4xx); transient when it or the network is. */
export function classifyUnstructuredError(error: unknown, filename: string): ParseError | TransientParseError {
  if (error instanceof UnstructuredClientError) {
    const status = error.statusCode;
    const detail = `${filename}: Unstructured answered ${status}`;
    if (status === 429 || status === 408 || status >= 500) {
      const retryAfterMs = retryAfter(error.headers.get('retry-after'));
      return new TransientParseError(detail, { cause: error, status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
    }
    // A rejected key is our configuration, not the file's fault: the file must stay retryable.
    if (status === 401 || status === 403) return new TransientParseError(`${detail} (API key rejected)`, { cause: error, status });
    if (status === 413) return new ParseError('too_large', `${detail}: file too large`, { cause: error });
    const body = error.body.toLowerCase();
    if (/password|encrypted/.test(body)) return new ParseError('encrypted', `${detail}: file is encrypted`, { cause: error });
    if (/not supported|unsupported|file type/.test(body)) {
      return new ParseError('unsupported', `${detail}: file type not supported`, { cause: error });
    }
    return new ParseError('corrupt', `${detail}: file rejected`, { cause: error });
  }
  if (error instanceof HTTPClientError) {
    return new TransientParseError(`${filename}: Unstructured unreachable (${error.name})`, { cause: error });
  }
  return new TransientParseError(`${filename}: Unstructured request failed`, { cause: error });
}

/** Retry-After is either seconds or an HTTP date. */
function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function stringOr(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

function nonNegativeInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}
