import { CsvHeaders } from './csv-header';
import { charSet, findRuns } from './detectors/runs';

/** Digits and what joins them in written numbers: space, `+ ( ) . -`. */
const NUMBER_CHARS = charSet((c) => (c >= 48 && c <= 57) || ' +().-'.includes(String.fromCharCode(c)));
/** The shortest number any detector wants: seven digits of a phone number, or an IPv4 address. */
const MIN_NUMBER_RUN = 7;

/** A run of number characters, with how many of them are digits and dots (each detector needs a few). */
export interface NumberRun {
  readonly start: number;
  readonly end: number;
  readonly digits: number;
  readonly dots: number;
}

/**
 * What several detectors read of one text, found once, on first use: the runs of number characters and the
 * CSV headers above values. `detectPii` makes one per text and hands it to every detector.
 */
export class TextScan {
  private numbers: NumberRun[] | undefined;
  private headers: CsvHeaders | undefined;

  constructor(readonly text: string) {}

  /** The runs of number characters at least seven long, where phones, cards, SSNs and IPv4 addresses can be. */
  numberRuns(): readonly NumberRun[] {
    if (this.numbers === undefined) {
      const text = this.text;
      const runs = findRuns(text, NUMBER_CHARS, MIN_NUMBER_RUN);
      this.numbers = [];
      for (let r = 0; r < runs.length; r += 2) {
        const start = runs[r] as number;
        const end = runs[r + 1] as number;
        let digits = 0;
        let dots = 0;
        for (let i = start; i < end; i++) {
          const c = text.charCodeAt(i);
          if (c >= 48 && c <= 57) digits++;
          else if (c === 46) dots++;
        }
        this.numbers.push({ start, end, digits, dots });
      }
    }
    return this.numbers;
  }

  /** The CSV header cells above values of this text. */
  csvHeaders(): CsvHeaders {
    this.headers ??= new CsvHeaders(this.text);
    return this.headers;
  }
}
