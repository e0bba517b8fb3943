/**
 * The column header of a value in comma-separated rows (a pasted CSV export): the header names what the column
 * holds ("ssn", "card_number"), while the cells before the value on its row are other values. The header is
 * the first line of the block of contiguous lines that have as many commas as the value's row, when every cell
 * of that line starts with a letter (names, not another row of values).
 *
 * Line facts are remembered per text, so the values of a long export cost a constant amount each instead of a
 * walk up to the header.
 */
export class CsvHeaders {
  /** Line start → commas on that line. */
  private readonly commas = new Map<number, number>();
  /** Line start → start of the first line of its block of lines with equally many commas. */
  private readonly blockTop = new Map<number, number>();
  /** Header line start → its cells, or null when it does not read as a header. */
  private readonly cells = new Map<number, string[] | null>();

  constructor(private readonly text: string) {}

  /** The header cell above a value starting at `start`, or undefined when it is not at the start of a cell. */
  cellAbove(start: number): string | undefined {
    const text = this.text;
    const previous = text.charCodeAt(start - 1);
    if (previous !== 44 /* , */ && previous !== 10 /* \n */) return undefined;
    const lineStart = text.lastIndexOf('\n', start - 1) + 1;
    if (lineStart === 0) return undefined;
    const commas = this.commasOn(lineStart);
    if (commas === 0) return undefined;
    const top = this.topOf(lineStart, commas);
    if (top === lineStart) return undefined;
    const cells = this.headerCells(top);
    return cells?.[countCommas(text, lineStart, start)];
  }

  private commasOn(lineStart: number): number {
    let n = this.commas.get(lineStart);
    if (n === undefined) {
      const end = this.text.indexOf('\n', lineStart);
      n = countCommas(this.text, lineStart, end < 0 ? this.text.length : end);
      this.commas.set(lineStart, n);
    }
    return n;
  }

  /** Walks up until a line with another comma count, the text's start or a line whose top is known. */
  private topOf(lineStart: number, commas: number): number {
    const walked: number[] = [];
    let line = lineStart;
    let top: number | undefined;
    for (;;) {
      top = this.blockTop.get(line);
      if (top !== undefined) break;
      walked.push(line);
      if (line === 0) {
        top = 0;
        break;
      }
      const above = line >= 2 ? this.text.lastIndexOf('\n', line - 2) + 1 : 0;
      if (this.commasOn(above) !== commas) {
        top = line;
        break;
      }
      line = above;
    }
    for (const l of walked) this.blockTop.set(l, top);
    return top;
  }

  private headerCells(lineStart: number): string[] | null {
    let cells = this.cells.get(lineStart);
    if (cells === undefined) {
      const end = this.text.indexOf('\n', lineStart);
      const split = this.text.slice(lineStart, end < 0 ? this.text.length : end).split(',');
      cells = split.every((cell) => /^\s*"?[A-Za-z]/.test(cell)) ? split : null;
      this.cells.set(lineStart, cells);
    }
    return cells;
  }
}

/** The header cell above a value (see CsvHeaders), without remembering anything. */
export function csvColumnHeader(text: string, start: number): string | undefined {
  return new CsvHeaders(text).cellAbove(start);
}

function countCommas(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 44) n++;
  return n;
}
