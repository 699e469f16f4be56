/**
 * One status line on stderr, rewritten in place, only when stderr is a terminal: a pipe or a
 * log file gets nothing, so the results on stdout stay clean to parse. Once started it is
 * redrawn every second, so a line that counts time keeps moving while no host has finished.
 */
export class ProgressLine {
  private shown = false;
  private render?: () => string;
  private timer?: NodeJS.Timeout;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  /** Shows render()'s text now and every second from now on. */
  start(render: () => string): void {
    if (!this.out.isTTY) return;
    this.render = render;
    this.timer ??= setInterval(() => this.redraw(), 1000).unref();
    this.redraw();
  }

  /** Redraws at once, after what render() reads has changed. */
  redraw(): void {
    if (!this.render) return;
    this.out.write(`\r\x1b[2K${this.render()}`);
    this.shown = true;
  }

  clear(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.render = undefined;
    if (this.shown) this.out.write("\r\x1b[2K");
    this.shown = false;
  }
}
