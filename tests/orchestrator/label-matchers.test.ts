import { ErrorCode } from '../../bot/core/errors';
import {
  formatMatcher,
  LabelMatcherError,
  matchesAll,
  parseMatcher,
  parseMatchers,
} from '../../engines/orchestrator/runbooks/label-matchers';

describe('label matchers', () => {
  it('reads a map as equality matchers, numbers and booleans as their text', () => {
    expect(parseMatchers({ alertname: 'ServiceDown', code: 503, paging: true })).toEqual([
      { name: 'alertname', op: '=', value: 'ServiceDown' },
      { name: 'code', op: '=', value: '503' },
      { name: 'paging', op: '=', value: 'true' },
    ]);
  });

  it('reads a list of Alertmanager matcher strings with every operator, quoted or bare', () => {
    expect(
      parseMatchers(['alertname=~"Payments.*"', 'severity != "info"', 'team=payments', 'env!~dev|test']),
    ).toEqual([
      { name: 'alertname', op: '=~', value: 'Payments.*' },
      { name: 'severity', op: '!=', value: 'info' },
      { name: 'team', op: '=', value: 'payments' },
      { name: 'env', op: '!~', value: 'dev|test' },
    ]);
  });

  it('reads a selector string, with or without braces, keeping commas and escaped quotes inside values', () => {
    const expected = [
      { name: 'alertname', op: '=', value: 'ServiceDown' },
      { name: 'summary', op: '=~', value: 'down, "badly"' },
    ];
    expect(parseMatchers('{alertname="ServiceDown", summary=~"down, \\"badly\\""}')).toEqual(expected);
    expect(parseMatchers('alertname="ServiceDown",summary=~"down, \\"badly\\"",')).toEqual(expected);
  });

  it('keeps regex escapes other than \\" and \\\\ for the regex engine', () => {
    const matcher = parseMatcher('instance=~"api\\.shop:\\d+"');
    expect(matcher.value).toBe('api\\.shop:\\d+');
    expect(matchesAll([matcher], { instance: 'api.shop:8080' })).toBe(true);
    expect(matchesAll([matcher], { instance: 'apiXshop:8080' })).toBe(false);
  });

  it('anchors regular expressions at both ends, as Alertmanager does', () => {
    const [matcher] = parseMatchers(['alertname=~"Payments.*"']);
    expect(matchesAll([matcher!], { alertname: 'PaymentsHighErrorRate' })).toBe(true);
    expect(matchesAll([matcher!], { alertname: 'OldPaymentsAlert' })).toBe(false);
    const [negated] = parseMatchers(['severity!~"info|none"']);
    expect(matchesAll([negated!], { severity: 'information' })).toBe(true);
    expect(matchesAll([negated!], { severity: 'info' })).toBe(false);
  });

  it('requires every matcher of a rule to hold', () => {
    const rule = parseMatchers({ alertname: 'ServiceDown', severity: 'critical' });
    expect(matchesAll(rule, { alertname: 'ServiceDown', severity: 'critical', service: 'orders' })).toBe(
      true,
    );
    expect(matchesAll(rule, { alertname: 'ServiceDown', severity: 'warning' })).toBe(false);
  });

  it('treats a missing label as the empty string', () => {
    expect(matchesAll(parseMatchers(['team!=""']), {})).toBe(false);
    expect(matchesAll(parseMatchers(['team=~".*"']), {})).toBe(true);
    expect(matchesAll(parseMatchers(['team=""']), { team: 'payments' })).toBe(false);
  });

  it('matches matchers built elsewhere (the alert router’s), compiling their regex on first use', () => {
    expect(matchesAll([{ name: 'service', op: '=~', value: 'pay.*|orders' }], { service: 'orders' })).toBe(
      true,
    );
    expect(() => matchesAll([{ name: 'service', op: '=~', value: '(' }], { service: 'x' })).toThrow(
      LabelMatcherError,
    );
  });

  it('formats a matcher so that it parses back to itself', () => {
    for (const text of ['alertname="ServiceDown"', 'summary=~"a \\"b\\" c"', 'x!~"\\\\d"']) {
      const matcher = parseMatcher(text);
      expect(parseMatcher(formatMatcher(matcher))).toEqual(matcher);
    }
  });

  it.each([
    [
      'a regex that does not compile',
      ['alertname=~"(unclosed"'],
      /alertname=~"\(unclosed": Invalid regular expression/,
    ],
    ['a label name with a dash', ['alert-name="x"'], /'alert-name' is not a label name/],
    ['a matcher with no operator', ['alertname'], /'alertname' is not a matcher/],
    ['an unclosed quote', ['alertname="x'], /the quoted value is not closed/],
    ['text after the closing quote', ['alertname="x"y'], /text after the closing quote/],
    ['two matchers in one list item', ['a="1", b="2"'], /one matcher per list item/],
    ['a list item that is not a string', [{ alertname: 'x' }], /is not a matcher string/],
    [
      'a map value that is a map',
      { alertname: { nested: true } },
      /alertname: an equality matcher's value must be a string/,
    ],
    ['an empty matcher between commas', 'a="1",,b="2"', /an empty matcher/],
    ['an unclosed selector', '{a="1"', /the selector's \{ is not closed/],
    ['a number', 42, /an alert rule is a map of labels/],
  ])('refuses %s, saying what is wrong', (_, value, message) => {
    let error: unknown;
    try {
      parseMatchers(value);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LabelMatcherError);
    expect((error as LabelMatcherError).code).toBe(ErrorCode.RuleInvalid);
    expect((error as LabelMatcherError).message).toMatch(message);
  });
});
