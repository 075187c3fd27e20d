import { load } from 'cheerio';
import type { MarkedToken, Token, Tokens } from 'marked' with { 'resolution-mode': 'import' };
import { HeadingTrail } from './heading-trail';
import { collapseWhitespace, decodeText, normalizeNewlines, tableRow, tidyLines } from './text-utils';
import type { ParsedDocument, ParsedElement, ParsedElementKind } from './types';

/** YAML front matter is not Markdown; marked would read it as a rule and a setext heading. */
const frontMatterPattern = /^---\n([\s\S]*?)\n(?:---|\.\.\.)\n/;

/** Markdown via marked's lexer (GFM): headings build the heading path; fences, tables and list items keep their kind. */
export async function parseMarkdown(bytes: Uint8Array, _filename: string): Promise<ParsedDocument> {
  // marked is ESM-only; this import() stays a real dynamic import in our CommonJS output.
  const { lexer } = await import('marked');
  const { body, title } = splitFrontMatter(normalizeNewlines(decodeText(bytes)));
  const builder = new MarkdownBuilder();
  builder.blocks(lexer(body, { gfm: true }));
  return { elements: builder.elements, ...(title ? { title } : {}) };
}

function splitFrontMatter(source: string): { body: string; title?: string } {
  const match = frontMatterPattern.exec(source);
  if (!match) return { body: source };
  const titleLine = /^title:\s*(.+)$/m.exec(match[1] ?? '');
  const title = titleLine?.[1]?.trim().replace(/^(['"])(.*)\1$/, '$2');
  return { body: source.slice(match[0].length), ...(title ? { title } : {}) };
}

class MarkdownBuilder {
  readonly elements: ParsedElement[] = [];
  private readonly trail = new HeadingTrail();

  blocks(tokens: readonly Token[]): void {
    for (const token of tokens) this.block(token as MarkedToken);
  }

  private block(token: MarkedToken): void {
    switch (token.type) {
      case 'heading': {
        const text = collapseWhitespace(inlineText(token.tokens));
        if (text) this.elements.push({ kind: 'heading', text, headingPath: this.trail.enter(token.depth, text), level: token.depth });
        return;
      }
      case 'paragraph':
      case 'text':
        return this.push('paragraph', tidyLines(token.tokens ? inlineText(token.tokens) : decodeEntities(token.text)));
      case 'code':
        return this.push('code', token.text.replace(/^\n+|\s+$/g, ''));
      case 'table':
        return this.push('table', tableLines(token));
      case 'list':
        return token.items.forEach((item) => this.listItem(item));
      case 'blockquote':
        return this.blocks(token.tokens);
      case 'html':
        return this.push('paragraph', htmlBlockText(token.text));
      default:
        // space, hr, def and the inline kinds carry no block text of their own.
        return;
    }
  }

  /** An item's own text is one list_item; a nested list follows as its own items. */
  private listItem(item: Tokens.ListItem): void {
    const own: Token[] = [];
    const nested: Token[] = [];
    for (const token of item.tokens) (token.type === 'list' ? nested : own).push(token);
    const text = tidyLines(own.map((token) => blockInlineText(token as MarkedToken)).join('\n'));
    this.push('list_item', text);
    this.blocks(nested);
  }

  private push(kind: ParsedElementKind, text: string): void {
    if (text.length > 0) this.elements.push({ kind, text, headingPath: this.trail.path() });
  }
}

/** Raw HTML in Markdown: its text, without scripts or styles. */
function htmlBlockText(html: string): string {
  const $ = load(html);
  $('script, style, noscript, template').remove();
  return tidyLines($.root().text());
}

function blockInlineText(token: MarkedToken): string {
  if (token.type === 'code') return token.text;
  if ('tokens' in token && token.tokens) return inlineText(token.tokens);
  return 'text' in token ? decodeEntities(token.text) : '';
}

/** The readable text of inline tokens: link text and image alt text, no markup, no raw HTML tags. */
function inlineText(tokens: readonly Token[]): string {
  let text = '';
  for (const raw of tokens) {
    const token = raw as MarkedToken;
    switch (token.type) {
      case 'br':
        text += '\n';
        break;
      case 'html':
        break;
      case 'codespan':
        text += token.text;
        break;
      case 'text':
      case 'escape':
        text += 'tokens' in token && token.tokens ? inlineText(token.tokens) : decodeEntities(token.text);
        break;
      default:
        if ('tokens' in token && token.tokens) text += inlineText(token.tokens);
        else if ('text' in token) text += decodeEntities(token.text);
    }
  }
  return text;
}

function tableLines(table: Tokens.Table): string {
  const rows = [table.header, ...table.rows].map((cells) => cells.map((cell) => inlineText(cell.tokens)));
  return rows
    .filter((cells) => cells.some((cell) => cell.trim().length > 0))
    .map((cells) => tableRow(cells))
    .join('\n');
}

const namedEntities: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** marked leaves entities in text tokens (the renderer would pass them to a browser); we want the characters. */
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (entity, name: string) => {
    if (name.startsWith('#')) {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return namedEntities[name.toLowerCase()] ?? entity;
  });
}
