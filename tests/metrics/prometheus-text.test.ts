import {
  MAX_EXPOSITION_BYTES,
  parsePrometheusFloat,
  parsePrometheusText,
} from '../../adapters/metrics/prometheus-text';

describe('Prometheus text exposition parser', () => {
  it('reads samples with labels and skips HELP, TYPE and other comments', () => {
    const text = [
      '# HELP http_requests_total Requests served.',
      '# TYPE http_requests_total counter',
      'http_requests_total{service="checkout",route="/pay",method="POST",code="200"} 1027',
      '# just a comment',
      '',
      'process_start_time_seconds 1.7e9',
      'up{} 1',
    ].join('\n');
    expect(parsePrometheusText(text)).toEqual([
      {
        name: 'http_requests_total',
        labels: { service: 'checkout', route: '/pay', method: 'POST', code: '200' },
        value: 1027,
      },
      { name: 'process_start_time_seconds', labels: {}, value: 1.7e9 },
      { name: 'up', labels: {}, value: 1 },
    ]);
  });

  it('unescapes backslashes, quotes and newlines in label values', () => {
    const [sample] = parsePrometheusText(
      String.raw`errors_total{path="C:\\temp\\x",msg="say \"hi\"\nbye",odd="a\tb",comma="a,b}"} 3`,
    );
    expect(sample?.labels).toEqual({
      path: 'C:\\temp\\x',
      msg: 'say "hi"\nbye',
      odd: 'a\\tb',
      comma: 'a,b}',
    });
    expect(sample?.value).toBe(3);
  });

  it('accepts timestamps, special values, exponents, spacing, trailing commas and CRLF', () => {
    const text = [
      'a 1 1700000000000',
      'b{le="+Inf"} +Inf',
      'c -Inf',
      'd NaN',
      'e 1.5e-3',
      'f { x = "1" , y="2", } \t 4 -5',
      'g{x="1"}7\r',
      'h .5',
    ].join('\n');
    const samples = parsePrometheusText(text);
    expect(samples.map((s) => s.name)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    const values = samples.map((s) => s.value);
    expect(values.slice(0, 3)).toEqual([1, Infinity, -Infinity]);
    expect(values[3]).toBeNaN();
    expect(values.slice(4)).toEqual([0.0015, 4, 7, 0.5]);
    expect(samples[1]?.labels).toEqual({ le: '+Inf' });
    expect(samples[5]?.labels).toEqual({ x: '1', y: '2' });
  });

  it('skips garbage lines without throwing and keeps the good ones around them', () => {
    const garbage = [
      '<html><body>Not Found</body></html>',
      'requests',
      'requests many',
      'requests 1 2 3',
      'requests 1 yesterday',
      'requests{code="200" 1',
      'requests{code=200} 1',
      'requests{code="200} 1',
      'requests{code="1",code="2"} 1',
      'requests{9code="1"} 1',
      '9requests 1',
      'requests-total 1',
      '{code="200"} 1',
      'requests 0x10',
      'requests ',
    ];
    const text = ['good_one 1', ...garbage, 'good_two 2'].join('\n');
    expect(parsePrometheusText(text)).toEqual([
      { name: 'good_one', labels: {}, value: 1 },
      { name: 'good_two', labels: {}, value: 2 },
    ]);
  });

  it('keeps a label named like an Object property as plain data', () => {
    const [sample] = parsePrometheusText('x{__proto__="polluted",constructor="c"} 1');
    expect(sample?.labels.__proto__).toBe('polluted');
    expect(Object.keys(sample?.labels ?? {})).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a body over the size limit and reads one at it', () => {
    const line = 'filler_metric 1\n';
    const atLimit = line.repeat(Math.floor(MAX_EXPOSITION_BYTES / line.length));
    expect(parsePrometheusText(atLimit)).toHaveLength(Math.floor(MAX_EXPOSITION_BYTES / line.length));
    const over = atLimit + 'x'.repeat(MAX_EXPOSITION_BYTES - atLimit.length + 1);
    expect(() => parsePrometheusText(over)).toThrow(RangeError);
  });

  it('counts the limit in UTF-8 bytes, not characters', () => {
    const label = 'é'.repeat(MAX_EXPOSITION_BYTES / 2);
    expect(() => parsePrometheusText(`x{l="${label}"} 1`)).toThrow(/bytes is over/);
  });

  it('parses floats as Prometheus writes them, label values included', () => {
    expect(parsePrometheusFloat('0.25')).toBe(0.25);
    expect(parsePrometheusFloat('+Inf')).toBe(Infinity);
    expect(parsePrometheusFloat('-inf')).toBe(-Infinity);
    expect(parsePrometheusFloat('NaN')).toBeNaN();
    expect(parsePrometheusFloat('')).toBeUndefined();
    expect(parsePrometheusFloat('1e')).toBeUndefined();
    expect(parsePrometheusFloat('Infinityx')).toBeUndefined();
  });
});
