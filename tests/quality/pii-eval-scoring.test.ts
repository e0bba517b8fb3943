import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readLabelledSet, type TypedSpan } from '../../bench/pii-eval/labelled-set';
import { RedactPiiSpans } from '../../bench/pii-eval/redact-pii-findings';
import { figures, meetsCriterion, scoreLine, scoreSet } from '../../bench/pii-eval/scoring';

const span = (type: TypedSpan['type'], start: number, end: number): TypedSpan => ({ type, start, end });

describe('eval:pii scoring rule (bench/pii-eval/README.md)', () => {
  it('matches on the same type and an overlap of at least half the labelled span', () => {
    const entity = span('secret', 10, 20);
    expect(meetsCriterion(span('secret', 15, 40), entity)).toBe(true); // 5 of 10
    expect(meetsCriterion(span('secret', 16, 40), entity)).toBe(false); // 4 of 10
    expect(meetsCriterion(span('secret', 0, 30), entity)).toBe(true); // extends past the label
    expect(meetsCriterion(span('phone', 10, 20), entity)).toBe(false);
  });

  it('gives each entity the unused finding with the largest overlap, entities in order of start', () => {
    const entities = [span('phone', 20, 30), span('phone', 0, 10)];
    const findings = [span('phone', 4, 10), span('phone', 0, 9), span('phone', 20, 30)];
    const { counts, missed, spurious } = scoreLine(entities, findings);
    expect(counts.phone).toEqual({ tp: 2, fp: 0, fn: 0 });
    expect(missed).toEqual([]);
    // The smaller overlap (4..10) met the criterion for a matched entity: ignored, not a FP.
    expect(spurious).toEqual([]);
  });

  it('counts a finding that matches nothing as a FP and an unmatched entity as a FN', () => {
    const { counts, missed, spurious } = scoreLine([span('email', 0, 10)], [span('email', 30, 40)]);
    expect(counts.email).toEqual({ tp: 0, fp: 1, fn: 1 });
    expect(missed).toEqual([span('email', 0, 10)]);
    expect(spurious).toEqual([span('email', 30, 40)]);
  });

  it('counts the right span with the wrong type twice', () => {
    const { counts } = scoreLine([span('us_ssn', 0, 11)], [span('phone', 0, 11)]);
    expect(counts.us_ssn).toEqual({ tp: 0, fp: 0, fn: 1 });
    expect(counts.phone).toEqual({ tp: 0, fp: 1, fn: 0 });
  });

  it('micro-averages over the types and counts hard-negative lines with any finding', () => {
    const lines = [
      {
        id: 'a',
        source: 'chat',
        text: 'x'.repeat(40),
        entities: [span('email', 0, 10)],
        hardNegative: false,
      },
      { id: 'b', source: 'log', text: 'y'.repeat(40), entities: [], hardNegative: true },
      { id: 'c', source: 'log', text: 'z'.repeat(40), entities: [], hardNegative: true },
    ];
    const scores = scoreSet(lines, [
      [span('email', 0, 10), span('secret', 20, 30)],
      [span('phone', 0, 5)],
      [],
    ]);
    expect(scores.overall).toMatchObject({ tp: 1, fp: 2, fn: 0 });
    expect(scores.overall.precision).toBeCloseTo(1 / 3);
    expect(scores.byType.secret.precision).toBe(0);
    expect(scores.byType.iban).toMatchObject({ precision: undefined, recall: undefined, f1: 0 });
    expect(scores.hardNegativesWithFinding).toBe(1);
    expect(scores.errors.map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('computes F1 from precision and recall', () => {
    expect(figures({ tp: 8, fp: 2, fn: 2 }).f1).toBeCloseTo(0.8);
    expect(figures({ tp: 0, fp: 0, fn: 3 }).f1).toBe(0);
  });
});

describe('the labelled set reader', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'pii-eval-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads lines and refuses an entity outside its text, naming file:line', () => {
    const file = path.join(dir, 'set.jsonl');
    const good = { id: 'p1', source: 'chat', text: 'mail a@example.com', entities: [], hardNegative: true };
    writeFileSync(file, `${JSON.stringify(good)}\n`);
    expect(readLabelledSet('test', file)).toEqual([good]);
    const bad = { ...good, id: 'p2', hardNegative: false, entities: [{ type: 'email', start: 5, end: 99 }] };
    writeFileSync(file, `${JSON.stringify(good)}\n${JSON.stringify(bad)}\n`);
    const exit = jest.spyOn(process, 'exit').mockImplementation(() => {
      throw new Error('exit');
    });
    const error = jest.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => readLabelledSet('test', file)).toThrow('exit');
    expect(error).toHaveBeenCalledWith(expect.stringContaining(`${file}:2: entity 0`));
    exit.mockRestore();
    error.mockRestore();
  });
});

describe("redact-pii's findings as spans", () => {
  const spans = new RedactPiiSpans();

  it('recovers the span and type of each redaction of its default pipeline', () => {
    const text = 'mail bob@example.com or call 415-555-0132 from 203.0.113.7';
    const { findings } = spans.find(text);
    const typed = findings.map((f) => [f.type, text.slice(f.start, f.end)]);
    expect(typed).toEqual(
      expect.arrayContaining([
        ['email', 'bob@example.com'],
        ['phone', '415-555-0132'],
        ['ip_address', '203.0.113.7'],
      ]),
    );
  });

  it('maps password and credentials to secret and counts unmapped patterns as dropped', () => {
    const text = 'password: hunter2 order 48213 at 1 Main Street';
    const { findings, dropped } = spans.find(text);
    expect(findings.map((f) => [f.type, text.slice(f.start, f.end)])).toEqual([
      ['secret', 'password: hunter2'],
    ]);
    expect(dropped.streetAddress).toBe(1);
    expect(dropped.zipcode).toBe(1);
  });

  it('maps a later stage that matches an earlier replacement back onto the original value', () => {
    // The card stage runs first and leaves "password: CREDIT_CARD_NUMBER", which the password stage then takes.
    const text = 'password: 4111 1111 1111 1111';
    const { findings } = spans.find(text);
    expect(findings).toEqual([
      { type: 'credit_card', start: 10, end: text.length },
      { type: 'secret', start: 0, end: text.length },
    ]);
  });
});
