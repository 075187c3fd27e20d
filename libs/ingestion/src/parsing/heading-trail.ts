/**
 * Tracks the open headings while a parser walks a document in order. A heading closes every open
 * heading at its level or deeper, so levels may skip (h1 → h3) without leaving stale entries behind.
 */
export class HeadingTrail {
  private readonly open: { level: number; text: string }[] = [];

  /** Opens a heading and returns its own path (which ends with it). */
  enter(level: number, text: string): string[] {
    while (this.open.length > 0 && (this.open.at(-1)?.level ?? 0) >= level) {
      this.open.pop();
    }
    this.open.push({ level, text });
    return this.path();
  }

  /** The path of body text at the current position. */
  path(): string[] {
    return this.open.map((heading) => heading.text);
  }
}
