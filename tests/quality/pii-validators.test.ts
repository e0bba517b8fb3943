import {
  IBAN_LENGTHS,
  ibanMod97,
  isIPv4,
  isIPv6,
  luhn,
  shannonEntropy,
  validIban,
  validUsSsn,
} from '../../engines/quality/pii/validators';

describe('luhn', () => {
  it.each(['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117', '79927398713'])(
    'accepts %s',
    (digits) => expect(luhn(digits)).toBe(true),
  );
  it.each(['4111111111111112', '5555555555554445', '378282246310006', '79927398710', '1', ''])(
    'rejects the near-miss %s',
    (digits) => expect(luhn(digits)).toBe(false),
  );
  it('rejects non-digits', () => expect(luhn('4111-1111-1111-1111')).toBe(false));
});

describe('IBAN mod-97', () => {
  it.each([
    'DE89370400440532013000',
    'GB82WEST12345698765432',
    'GB82 WEST 1234 5698 7654 32',
    'FR1420041010050500013M02606',
    'NL91ABNA0417164300',
    'CH9300762011623852957',
    'NO9386011117947',
    'be68539007547034',
  ])('accepts %s', (iban) => expect(validIban(iban)).toBe(true));
  it.each([
    'DE89370400440532013001', // one digit off
    'DE88370400440532013000', // check digits off
    'GB82WEST12345698765423', // transposition
    'DE8937040044053201300', // too short for DE
    'XX89370400440532013000', // unknown country
    'DE89 3704 0044 0532 0130 00 00',
  ])('rejects %s', (iban) => expect(validIban(iban)).toBe(false));
  it('knows per-country lengths', () => {
    expect(IBAN_LENGTHS.DE).toBe(22);
    expect(IBAN_LENGTHS.NO).toBe(15);
    expect(IBAN_LENGTHS.MT).toBe(31);
  });
  it('computes the remainder', () => expect(ibanMod97('DE89370400440532013000')).toBe(1));
});

describe('US SSN rules', () => {
  it.each(['123-45-6789', '078 05 1120', '536228745', '665-12-3456'])('accepts %s', (ssn) =>
    expect(validUsSsn(ssn)).toBe(true),
  );
  it.each([
    '000-12-3456',
    '666-12-3456',
    '900-12-3456',
    '999-45-6789',
    '123-00-6789',
    '123-45-0000',
    '12-345-6789',
  ])('rejects %s', (ssn) => expect(validUsSsn(ssn)).toBe(false));
});

describe('IP addresses', () => {
  it('checks IPv4 octets', () => {
    expect(isIPv4('192.168.1.10')).toBe(true);
    expect(isIPv4('255.255.255.255')).toBe(true);
    expect(isIPv4('256.1.1.1')).toBe(false);
    expect(isIPv4('1.2.3')).toBe(false);
  });
  it('checks IPv6', () => {
    expect(isIPv6('::1')).toBe(true);
    expect(isIPv6('2001:db8::8a2e:370:7334')).toBe(true);
    expect(isIPv6('::ffff:192.0.2.1')).toBe(true);
    expect(isIPv6('10:22:33')).toBe(false);
    expect(isIPv6('00:1a:2b:3c:4d:5e')).toBe(false);
  });
});

describe('shannonEntropy', () => {
  it('is 0 for one repeated character and for the empty string', () => {
    expect(shannonEntropy('aaaaaaaa')).toBe(0);
    expect(shannonEntropy('')).toBe(0);
  });
  it('is log2 of the alphabet for uniform strings', () => {
    expect(shannonEntropy('abcd')).toBeCloseTo(2);
    expect(shannonEntropy('0123456789abcdef')).toBeCloseTo(4);
  });
  it('separates random keys from words', () => {
    expect(shannonEntropy('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')).toBeGreaterThan(3.5);
    expect(shannonEntropy('passwordpassword')).toBeLessThan(3.5);
  });
  it('counts non-ASCII characters too, and the same after them', () => {
    expect(shannonEntropy('ééàà')).toBeCloseTo(1);
    expect(shannonEntropy('😀😀')).toBeCloseTo(1); // by UTF-16 code unit: two of them, each twice
    // The counts of one call never leak into the next.
    expect(shannonEntropy('abcd')).toBeCloseTo(2);
    expect(shannonEntropy('aé')).toBeCloseTo(1);
    expect(shannonEntropy('abcd')).toBeCloseTo(2);
  });
});
