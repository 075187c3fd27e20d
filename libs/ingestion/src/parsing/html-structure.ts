import { contains, type CheerioAPI } from 'cheerio';
import { HeadingTrail } from './heading-trail';
import { collapseWhitespace, tableRow, tidyLines } from './text-utils';
import type { ParsedElement, ParsedElementKind } from './types';

// cheerio's nodes come from domhandler, which is not our direct dependency; derive the types from cheerio.
type DomNode = Parameters<typeof contains>[1];
type DomElement = Extract<DomNode, { attribs: Record<string, string> }>;

/** Page chrome and non-content: never part of the text we index. */
const chromeSelector = [
  'script',
  'style',
  'noscript',
  'template',
  'nav',
  'aside',
  'form',
  'iframe',
  'svg',
  'canvas',
  'object',
  'embed',
  'button',
  'select',
  '[role=navigation]',
  '[role=banner]',
  '[role=contentinfo]',
  '[role=complementary]',
  '[role=search]',
  '[hidden]',
  '[aria-hidden=true]',
].join(', ');

const headingLevels: Readonly<Record<string, number>> = { h1: 1, h2: 2, h3: 3, h4: 4, h5: 5, h6: 6 };

const blockTags = new Set([
  'address', 'article', 'blockquote', 'body', 'caption', 'dd', 'details', 'dialog', 'div', 'dl', 'dt',
  'fieldset', 'figcaption', 'figure', 'footer', 'header', 'hgroup', 'hr', 'html', 'legend', 'main', 'menu',
  'ol', 'p', 'section', 'summary', 'ul',
]);

export interface HtmlStructureOptions {
  /** An h1 with this class is the document title rather than a heading (how the DOCX parser marks Word's Title style). */
  titleClass?: string;
}

/**
 * Turns an HTML document into elements: only the main content (`<main>`, else a single `<article>`,
 * else `<body>`), without page chrome; headings build the heading path; tables and `<pre>` stay whole.
 */
export function elementsFromHtml($: CheerioAPI, options: HtmlStructureOptions = {}): ParsedElement[] {
  const root = contentRoot($);
  removeChrome($, root);
  const walker = new HtmlWalker($, options);
  walker.walk(root);
  walker.flush();
  return walker.elements;
}

export function htmlTitle($: CheerioAPI): string | undefined {
  const title = collapseWhitespace($('head > title').first().text());
  return title.length > 0 ? title : undefined;
}

/** A table as text lines `a | b | c`, one per row; rows of nested tables belong to their own table. */
export function tableText($: CheerioAPI, table: DomElement): string {
  const lines: string[] = [];
  $(table)
    .find('tr')
    .filter((_, row) => $(row).closest('table')[0] === table)
    .each((_, row) => {
      const cells = $(row)
        .children('th, td')
        .map((__, cell) => collapseWhitespace($(cell).text()))
        .get();
      if (cells.some((cell) => cell.length > 0)) lines.push(tableRow(cells));
    });
  return lines.join('\n');
}

function contentRoot($: CheerioAPI): DomNode {
  const main = $('main, [role=main]').first();
  if (main.length > 0 && hasText($, main[0])) return main[0] as DomNode;
  const articles = $('article');
  if (articles.length === 1 && hasText($, articles[0])) return articles[0] as DomNode;
  const body = $('body').first();
  return (body[0] ?? $.root()[0]) as DomNode;
}

function hasText($: CheerioAPI, node: DomNode | undefined): boolean {
  return node !== undefined && $(node).text().trim().length > 0;
}

function removeChrome($: CheerioAPI, root: DomNode): void {
  $(root).find(chromeSelector).remove();
  // A page-level header/footer is site chrome; one inside an article or section is that content's own
  // header (often holding its title), so it stays.
  $(root)
    .find('header, footer')
    .filter((_, element) => $(element).parents('article, section, main').length === 0)
    .remove();
}

function isElement(node: DomNode): node is DomElement {
  // Processing instructions (<!doctype>) share nodeType 1 with elements but have no attributes or children.
  return node.nodeType === 1 && 'attribs' in node;
}

class HtmlWalker {
  readonly elements: ParsedElement[] = [];
  private readonly trail = new HeadingTrail();
  private buffer = '';
  /** What a block of inline text becomes: list items stay list items even when wrapped in <p>. */
  private readonly kinds: ParsedElementKind[] = ['paragraph'];

  constructor(
    private readonly $: CheerioAPI,
    private readonly options: HtmlStructureOptions,
  ) {}

  walk(node: DomNode): void {
    if (node.nodeType === 3) {
      this.buffer += node.data.replace(/\s+/g, ' ');
      return;
    }
    if (node.nodeType === 9) {
      node.children.forEach((child) => this.walk(child));
      return;
    }
    if (!isElement(node)) return;
    const tag = node.name.toLowerCase();
    const level = headingLevels[tag];
    if (level !== undefined) return this.heading(node, level);
    if (tag === 'table') return this.block('table', tableText(this.$, node));
    if (tag === 'pre' || (tag === 'code' && this.isCodeBlock(node))) return this.block('code', codeText(this.$(node).text()));
    if (tag === 'br') {
      this.buffer += '\n';
      return;
    }
    if (tag === 'li') return this.container(node, 'list_item');
    if (blockTags.has(tag)) return this.container(node);
    node.children.forEach((child) => this.walk(child));
  }

  flush(): void {
    const text = tidyLines(this.buffer);
    this.buffer = '';
    if (text.length === 0) return;
    this.elements.push({ kind: this.kinds.at(-1) ?? 'paragraph', text, headingPath: this.trail.path() });
  }

  private container(node: DomElement, kind?: ParsedElementKind): void {
    this.flush();
    if (kind) this.kinds.push(kind);
    node.children.forEach((child) => this.walk(child));
    this.flush();
    if (kind) this.kinds.pop();
  }

  private heading(node: DomElement, level: number): void {
    this.flush();
    const text = collapseWhitespace(this.$(node).text());
    if (text.length === 0) return;
    const titleClass = this.options.titleClass;
    if (titleClass && this.$(node).hasClass(titleClass)) {
      this.elements.push({ kind: 'title', text, headingPath: [] });
      return;
    }
    this.elements.push({ kind: 'heading', text, headingPath: this.trail.enter(level, text), level });
  }

  private block(kind: ParsedElementKind, text: string): void {
    this.flush();
    if (text.length > 0) this.elements.push({ kind, text, headingPath: this.trail.path() });
  }

  /** `<code>` alone in its block and spanning lines is a code block; otherwise it is inline code in prose. */
  private isCodeBlock(node: DomElement): boolean {
    const code = this.$(node).text();
    if (!code.includes('\n')) return false;
    const parent = node.parent;
    return parent !== null && this.$(parent).text().trim() === code.trim();
  }
}

/** Code keeps its indentation; only blank lines around it and trailing spaces go. */
function codeText(raw: string): string {
  return raw
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/^\n+|\n+$/g, '');
}
