import { tokenize } from '../text/tokenize';

/** The fields a chunk is indexed under, and how much a match in each counts (BM25F). */
export const FIELD_WEIGHTS = { text: 1, headings: 2, title: 3, alerts: 3 } as const;
export type Field = keyof typeof FIELD_WEIGHTS;
const FIELDS = Object.keys(FIELD_WEIGHTS) as Field[];

/** Okapi saturation and per-field length normalisation, at the usual values. */
const K1 = 1.2;
const B: Record<Field, number> = { text: 0.75, headings: 0.5, title: 0.3, alerts: 0 };

export type FieldTexts = Record<Field, string>;

/** The index's persisted form: plain arrays, so it loads with one JSON.parse. */
export interface Bm25Data {
  /** term → [doc, tf_text, tf_headings, tf_title, tf_alerts, doc, …] */
  postings: Record<string, number[]>;
  /** per doc, per field: token count. */
  lengths: number[][];
}

export interface Bm25Hit {
  doc: number;
  score: number;
  /** Share of the query's idf mass this doc contains, 0..1: how completely it covers the question. */
  coverage: number;
}

/** BM25F over the chunks of an index; docs are chunk ordinals. */
export class Bm25Index {
  private readonly averages: number[];

  private constructor(private readonly data: Bm25Data) {
    const n = Math.max(1, data.lengths.length);
    this.averages = FIELDS.map((_, f) => data.lengths.reduce((sum, l) => sum + (l[f] ?? 0), 0) / n || 1);
  }

  static build(docs: readonly FieldTexts[]): Bm25Index {
    const postings: Record<string, number[]> = Object.create(null);
    const lengths: number[][] = [];
    docs.forEach((doc, ordinal) => {
      const counts = new Map<string, number[]>();
      lengths.push(
        FIELDS.map((field, f) => {
          const tokens = tokenize(doc[field]);
          for (const t of tokens) {
            let c = counts.get(t);
            if (!c) counts.set(t, (c = [0, 0, 0, 0]));
            c[f] = (c[f] as number) + 1;
          }
          return tokens.length;
        }),
      );
      for (const [term, c] of counts) (postings[term] ??= []).push(ordinal, ...c);
    });
    return new Bm25Index({ postings, lengths });
  }

  static fromData(data: Bm25Data): Bm25Index {
    return new Bm25Index({
      postings: Object.assign(Object.create(null), data.postings),
      lengths: data.lengths,
    });
  }

  toData(): Bm25Data {
    return this.data;
  }

  get size(): number {
    return this.data.lengths.length;
  }

  /** Top hits for the query; `accept` filters docs (metadata filters) before ranking. */
  search(query: string, limit: number, accept?: (doc: number) => boolean): Bm25Hit[] {
    const terms = [...new Set(tokenize(query))];
    const n = this.size;
    // Flat accumulators: a common term touches thousands of chunks, and objects per chunk cost more than the maths.
    const scores = new Float64Array(n);
    const covered = new Float64Array(n);
    const touched: number[] = [];
    let idfMass = 0;
    for (const term of terms) {
      const list = this.data.postings[term];
      const df = list ? list.length / 5 : 0;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      idfMass += idf;
      if (!list) continue;
      for (let i = 0; i < list.length; i += 5) {
        const doc = list[i] as number;
        if (accept && !accept(doc)) continue;
        const lengths = this.data.lengths[doc] as number[];
        let tf = 0;
        for (let f = 0; f < FIELDS.length; f++) {
          const raw = list[i + 1 + f] as number;
          if (raw === 0) continue;
          const field = FIELDS[f] as Field;
          const norm = 1 - B[field] + (B[field] * (lengths[f] as number)) / (this.averages[f] as number);
          tf += (FIELD_WEIGHTS[field] * raw) / norm;
        }
        if (covered[doc] === 0) touched.push(doc);
        scores[doc] = (scores[doc] as number) + (idf * tf) / (K1 + tf);
        covered[doc] = (covered[doc] as number) + idf;
      }
    }
    touched.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
    return touched.slice(0, limit).map((doc) => ({
      doc,
      score: scores[doc] as number,
      coverage: idfMass > 0 ? (covered[doc] as number) / idfMass : 0,
    }));
  }
}
