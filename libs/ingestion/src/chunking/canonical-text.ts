import type { ParsedDocument, ParsedElement } from '../parsing/types';

/** Element texts are joined with a blank line; chunk offsets (charStart/charEnd) index into this text. */
export const elementSeparator = '\n\n';

/** The document as one string: what chunk offsets refer to. UTF-16 code unit offsets, as String#slice uses. */
export function canonicalText(doc: ParsedDocument): string {
  return doc.elements.map((element) => element.text).join(elementSeparator);
}

export interface ElementSpan {
  element: ParsedElement;
  start: number;
  end: number;
}

/** Where each element's text sits in the canonical text. */
export function elementSpans(doc: ParsedDocument): ElementSpan[] {
  let offset = 0;
  return doc.elements.map((element) => {
    const span = { element, start: offset, end: offset + element.text.length };
    offset = span.end + elementSeparator.length;
    return span;
  });
}
