import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a byte stream into lines of any length (a `processRecords` line can be about 10 MiB of base64): chunks are
 * kept until their newline arrives and joined once. A trailing `\r` is removed (the daemon on Windows writes `\r\n`).
 */
export class KclLineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private parts: string[] = [];

  /** Feeds a chunk and returns the lines it completed, in order. */
  push(chunk: Buffer | string): string[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const lines: string[] = [];
    let start = 0;
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      const piece = text.slice(start, newline);
      let line: string;
      if (this.parts.length === 0) {
        line = piece;
      } else {
        this.parts.push(piece);
        line = this.parts.join('');
        this.parts = [];
      }
      lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    if (start < text.length) this.parts.push(start === 0 ? text : text.slice(start));
    return lines;
  }

  /** Ends the stream and returns an unterminated last line, if any. */
  end(): string | undefined {
    const rest = this.decoder.end();
    if (rest !== '') this.parts.push(rest);
    if (this.parts.length === 0) return undefined;
    const line = this.parts.join('');
    this.parts = [];
    return line.endsWith('\r') ? line.slice(0, -1) : line;
  }

  /** Characters waiting for their newline. */
  get pendingLength(): number {
    let n = 0;
    for (const part of this.parts) n += part.length;
    return n;
  }
}
