/**
 * One status line on stderr, rewritten in place, only when stderr is a terminal: a pipe or a
 * log file gets nothing, so the results on stdout stay clean to parse.
 */
export class ProgressLine {
  private shown = false;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  show(text: string): void {
    if (!this.out.isTTY) return;
    this.out.write(`\r\x1b[2K${text}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.out.write("\r\x1b[2K");
    this.shown = false;
  }
}
