import { createHmac } from 'node:crypto';
import { detectPii } from '../../engines/quality/pii/detect';
import type { Finding } from '../../engines/quality/pii/finding';
import { redactPii, redactText, type RedactionPolicy } from '../../engines/quality/pii/redact';

const SALT = 'test-salt';

function at(text: string, value: string, type: Finding['type'], score = 0.9): Finding {
  const start = text.indexOf(value);
  if (start < 0) throw new Error(`${value} not in ${text}`);
  return { type, start, end: start + value.length, score };
}

describe('redactText modes', () => {
  const text = 'mail jane@example.com, card 4111-1111-1111-1111';
  const findings = [at(text, 'jane@example.com', 'email'), at(text, '4111-1111-1111-1111', 'credit_card')];

  it('type: replaces with <TYPE>', () => {
    expect(redactText(text, findings, { default: 'type' })).toBe('mail <EMAIL>, card <CREDIT_CARD>');
  });
  it('mask: keeps the length', () => {
    expect(redactText(text, findings, { default: 'mask' })).toBe(
      `mail ${'*'.repeat(16)}, card ${'*'.repeat(19)}`,
    );
    expect(redactText(text, findings, { default: 'mask', maskChar: '#' })).toContain('#'.repeat(16));
  });
  it('partial: the last 4 stay visible, separators too', () => {
    expect(redactText(text, findings, { default: 'partial' })).toBe(
      'mail ****@******e.com, card ****-****-****-1111',
    );
  });
  it('partial: short values are masked whole', () => {
    const t = 'pw=abc123';
    expect(redactText(t, [at(t, 'abc123', 'secret')], { default: 'partial' })).toBe('pw=******');
  });
  it('hash: HMAC-SHA256 pseudonyms, stable for a value and salt', () => {
    const out = redactText(text, findings, { default: 'hash', salt: SALT });
    const expected = createHmac('sha256', SALT)
      .update('email\u0000jane@example.com')
      .digest('hex')
      .slice(0, 8);
    expect(out).toContain(`<EMAIL:${expected}>`);
    expect(out).toMatch(/^mail <EMAIL:[0-9a-f]{8}>, card <CREDIT_CARD:[0-9a-f]{8}>$/);
    // The same person gets the same pseudonym, whatever the spelling; another salt gives another one.
    const again = 'JANE@example.com';
    expect(redactText(again, [at(again, again, 'email')], { default: 'hash', salt: SALT })).toBe(
      `<EMAIL:${expected}>`,
    );
    expect(redactText(text, findings, { default: 'hash', salt: 'other' })).not.toContain(expected);
    const spaced = '4111 1111 1111 1111';
    expect(redactText(spaced, [at(spaced, spaced, 'credit_card')], { default: 'hash', salt: SALT })).toBe(
      out.slice(out.indexOf('<CREDIT_CARD')),
    );
  });
  it('hash: honours hashLength', () => {
    expect(redactText(text, findings, { default: 'hash', salt: SALT, hashLength: 12 })).toMatch(
      /<EMAIL:[0-9a-f]{12}>/,
    );
  });
  it('hash mode requires a salt', () => {
    expect(() => redactText(text, findings, { default: 'hash' })).toThrow(/salt/);
    expect(() => redactText(text, [], { default: 'type', perType: { email: 'hash' } })).toThrow(/salt/);
    expect(() => redactText(text, findings, { default: 'hash', salt: '' })).toThrow(/salt/);
  });
  it('rejects unknown modes and bad options', () => {
    expect(() => redactText(text, findings, { default: 'drop' } as unknown as RedactionPolicy)).toThrow(
      /mode/,
    );
    expect(() => redactText(text, findings, { default: 'mask', maskChar: '**' })).toThrow(/maskChar/);
  });
  it('is configurable per type', () => {
    const policy: RedactionPolicy = { default: 'type', perType: { credit_card: 'partial' } };
    expect(redactText(text, findings, policy)).toBe('mail <EMAIL>, card ****-****-****-1111');
  });
});

describe('redactText spans', () => {
  it('leaves text without findings alone', () => {
    expect(redactText('nothing here', [], { default: 'type' })).toBe('nothing here');
  });
  it('accepts findings in any order', () => {
    const text = 'a@example.com b@example.com';
    const findings = [at(text, 'b@example.com', 'email'), at(text, 'a@example.com', 'email')];
    expect(redactText(text, findings, { default: 'type' })).toBe('<EMAIL> <EMAIL>');
  });
  it('merges overlapping findings so nothing inside either survives', () => {
    const text = 'x token=ghp_abcdef0123456789 y';
    const findings: Finding[] = [
      { type: 'secret', start: 2, end: 16, score: 0.6 },
      { type: 'phone', start: 10, end: 28, score: 0.5 },
    ];
    expect(redactText(text, findings, { default: 'type' })).toBe('x <SECRET> y');
  });
  it('clamps spans outside the text and ignores empty ones', () => {
    const text = 'abc';
    expect(redactText(text, [{ type: 'secret', start: 1, end: 99, score: 1 }], { default: 'mask' })).toBe(
      'a**',
    );
    expect(redactText(text, [{ type: 'secret', start: 2, end: 2, score: 1 }], { default: 'mask' })).toBe(
      'abc',
    );
  });
  it('keeps line breaks when masking a PEM block', () => {
    const text = 'k:\n-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----';
    const out = redactPii(text, { default: 'mask' }).redacted;
    expect(out.split('\n')).toHaveLength(4);
    expect(out).not.toContain('MIIB');
  });
});

describe('UTF-16 offsets', () => {
  it('an emoji before a finding does not shift it', () => {
    const text = '🔥🔥 ping 👩‍💻 jane@example.com now 🙏';
    const [finding] = detectPii(text);
    expect(finding).toBeDefined();
    expect(finding!.start).toBe(text.indexOf('jane'));
    expect(text.slice(finding!.start, finding!.end)).toBe('jane@example.com');
    expect(redactText(text, [finding!], { default: 'type' })).toBe('🔥🔥 ping 👩‍💻 <EMAIL> now 🙏');
  });
  it('masks an emoji inside a span as one character', () => {
    const text = 'a😀b';
    expect(redactText(text, [{ type: 'secret', start: 0, end: 4, score: 1 }], { default: 'mask' })).toBe(
      '***',
    );
  });
});

describe('redactPii (the CLI record)', () => {
  it('returns text, findings and redacted', () => {
    const text = 'call +1-415-555-0132 or mail ops@example.com; password=hunter2!';
    const result = redactPii(text, { default: 'type', perType: { email: 'hash' }, salt: SALT });
    expect(result.text).toBe(text);
    expect(result.findings.map((f) => f.type)).toEqual(['phone', 'email', 'secret']);
    for (const f of result.findings) {
      expect(Object.keys(f).sort()).toEqual(['end', 'score', 'start', 'type']);
      expect(f.score).toBeGreaterThanOrEqual(0.5);
      expect(f.score).toBeLessThanOrEqual(1);
    }
    expect(result.redacted).toMatch(/^call <PHONE> or mail <EMAIL:[0-9a-f]{8}>; password=<SECRET>$/);
    expect(result.redacted).not.toContain('hunter2');
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });
  it('defaults to type mode', () => {
    expect(redactPii('SSN 536-22-8745').redacted).toBe('SSN <US_SSN>');
  });
});
