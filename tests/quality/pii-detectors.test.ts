import { scoreWithContext } from '../../engines/quality/pii/context';
import { csvColumnHeader, CsvHeaders } from '../../engines/quality/pii/csv-header';
import { detectPii, resolveOverlaps } from '../../engines/quality/pii/detect';
import { detectAwsSecretKeys } from '../../engines/quality/pii/detectors/aws-secret-key';
import { detectCards } from '../../engines/quality/pii/detectors/card';
import { detectEmails } from '../../engines/quality/pii/detectors/email';
import { detectIps } from '../../engines/quality/pii/detectors/ip';
import { detectPhones } from '../../engines/quality/pii/detectors/phone';
import { charSet, findRuns, forEachMatchInRun } from '../../engines/quality/pii/detectors/runs';
import { detectSsns } from '../../engines/quality/pii/detectors/ssn';
import { detectSecrets } from '../../engines/quality/pii/detectors/secret';
import { DEFAULT_THRESHOLD, PII_TYPES, type Finding } from '../../engines/quality/pii/finding';
import { TextScan } from '../../engines/quality/pii/text-scan';

/** Each reported finding as [type, the text it covers]. */
function found(text: string): [string, string][] {
  return detectPii(text).map((f) => [f.type, text.slice(f.start, f.end)]);
}

function expectOnly(text: string, type: string, value: string): void {
  expect(found(text)).toEqual([[type, value]]);
}

describe('types', () => {
  it('has the names the issue fixes', () => {
    expect(PII_TYPES).toEqual([
      'email',
      'phone',
      'credit_card',
      'iban',
      'us_ssn',
      'ip_address',
      'secret',
      'person_name',
    ]);
    expect(DEFAULT_THRESHOLD).toBe(0.5);
  });
});

describe('email', () => {
  it.each([
    ['reach me at jane.doe@example.com please', 'jane.doe@example.com'],
    ['mailto:ops+alerts@corp.example.co.uk', 'ops+alerts@corp.example.co.uk'],
    ['<Bob_Smith-2@mail.example.org>', 'Bob_Smith-2@mail.example.org'],
    ['Send it to X@EXAMPLE.IO.', 'X@EXAMPLE.IO'],
  ])('finds %s', (text, value) => expectOnly(text, 'email', value));

  it('does not take a URL password and host for an address', () => {
    expect(found('postgres://app:s3cr3tpw@db.example.com:5432/orders')).toEqual([['secret', 's3cr3tpw']]);
  });
  it('skips scp-style git remotes and handles', () => {
    expect(found('git clone git@github.com:acme/opsbot.git')).toEqual([]);
    expect(found('ping @oncall about it, user@localhost')).toEqual([]);
  });
});

describe('phone', () => {
  it.each([
    ['call +44 20 7946 0958 now', '+44 20 7946 0958'],
    ['+1-415-555-0132', '+1-415-555-0132'],
    ['office: (415) 555-0132', '(415) 555-0132'],
    ['+1 (415) 555-0132', '+1 (415) 555-0132'],
    ['cell 415.555.0132', '415.555.0132'],
    ['london desk 020 7946 0958', '020 7946 0958'],
    ['Berlin 030 12345678', '030 12345678'],
    ['+49 30 12345678', '+49 30 12345678'],
    ['mobile 07911 123456', '07911 123456'],
    ['+44 (0)20 7946 0958', '+44 (0)20 7946 0958'],
    ['+14155550132', '+14155550132'],
    ['call me on 4155550132', '4155550132'],
  ])('finds %s', (text, value) => expectOnly(text, 'phone', value));

  it('does not run a number into the words and numbers after it', () => {
    expect(found('call 020 7946 0958 at 10 am')).toEqual([['phone', '020 7946 0958']]);
  });
  it('scores a bare 10-digit run low without a phone word, higher with one', () => {
    const bare = detectPhones('ref 4155550132 resolved');
    const cued = detectPhones('phone 4155550132');
    expect(bare[0]?.score).toBeLessThan(DEFAULT_THRESHOLD);
    expect(cued[0]?.score).toBeGreaterThanOrEqual(DEFAULT_THRESHOLD);
    expect(found('job 4155550132 finished')).toEqual([]);
    expect(found('4155550132')).toEqual([]);
  });
  it('raises a formatted number with phone context', () => {
    const plain = detectPhones('see 020 7946 0958')[0]?.score ?? 0;
    const cued = detectPhones('tel: 020 7946 0958')[0]?.score ?? 0;
    expect(cued).toBeGreaterThan(plain);
  });
});

describe('credit_card', () => {
  it.each([
    ['card 4111 1111 1111 1111 exp 12/27', '4111 1111 1111 1111'],
    ['visa 4111-1111-1111-1111', '4111-1111-1111-1111'],
    ['mastercard 5555555555554444', '5555555555554444'],
    ['amex 3782 822463 10005', '3782 822463 10005'],
    ['2223003122003222', '2223003122003222'],
    ['paid with 6011 1111 1111 1117', '6011 1111 1111 1117'],
  ])('finds %s', (text, value) => expectOnly(text, 'credit_card', value));

  it('rejects card-length numbers failing Luhn', () => {
    expect(found('card 4111 1111 1111 1112')).toEqual([]);
    expect(detectCards('5555555555554445')).toEqual([]);
  });
  it('raises the score with card words and lowers it with order words', () => {
    const plain = detectCards('4111111111111111')[0]?.score ?? 0;
    const card = detectCards('credit card 4111111111111111')[0]?.score ?? 0;
    const order = detectCards('order 4111111111111111')[0]?.score ?? 0;
    expect(card).toBeGreaterThan(plain);
    expect(order).toBeLessThan(DEFAULT_THRESHOLD);
  });
  it('does not report Luhn-valid numbers with no issuer prefix and no card word', () => {
    expect(found('trace 1234567812345670 done')).toEqual([]);
  });
});

describe('iban', () => {
  it.each([
    ['IBAN DE89 3704 0044 0532 0130 00 EUR', 'DE89 3704 0044 0532 0130 00'],
    ['pay GB82WEST12345698765432.', 'GB82WEST12345698765432'],
    ['FR14 2004 1010 0505 0001 3M02 606', 'FR14 2004 1010 0505 0001 3M02 606'],
    ['NL91ABNA0417164300', 'NL91ABNA0417164300'],
  ])('finds %s', (text, value) => expectOnly(text, 'iban', value));

  it('rejects near-misses of mod-97', () => {
    expect(found('IBAN DE89 3704 0044 0532 0130 01')).toEqual([]);
    expect(found('GB82WEST12345698765423')).toEqual([]);
  });
});

describe('us_ssn', () => {
  it.each([
    ['SSN 536-22-8745', '536-22-8745'],
    ['applicant 078-05-1120 on file', '078-05-1120'],
    ['social security number 536 22 8745', '536 22 8745'],
    ['ssn: 536228745', '536228745'],
  ])('finds %s', (text, value) => expectOnly(text, 'us_ssn', value));

  it('applies the area/group/serial rules', () => {
    expect(found('SSN 666-12-3456')).toEqual([]);
    expect(found('SSN 900-12-3456')).toEqual([]);
    expect(found('SSN 123-00-6789')).toEqual([]);
    expect(found('SSN 123-45-0000')).toEqual([]);
  });
  it('needs context for the bare form', () => {
    expect(detectSsns('536228745')[0]?.score).toBeLessThan(DEFAULT_THRESHOLD);
    expect(detectSsns('ssn 536228745')[0]?.score).toBeGreaterThanOrEqual(DEFAULT_THRESHOLD);
  });
});

describe('ip_address', () => {
  it.each([
    ['connect from 203.0.113.144 failed', '203.0.113.144'],
    ['client 8.8.4.4:53', '8.8.4.4'],
    ['from 2001:db8::8a2e:370:7334', '2001:db8::8a2e:370:7334'],
    ['listen [2a00:1450:4001::200e]:8080', '2a00:1450:4001::200e'],
    ['2001:0db8:85a3:0000:0000:8a2e:0370:7334', '2001:0db8:85a3:0000:0000:8a2e:0370:7334'],
  ])('finds %s', (text, value) => expectOnly(text, 'ip_address', value));

  it.each([
    'redis at 127.0.0.1:6379 refused',
    'connect to 10.0.12.144 failed',
    'pod 172.20.3.4 and node 192.168.1.20',
    'shared 100.64.0.9, link-local 169.254.169.254, bind 0.0.0.0',
    'listen [::1]:8080 and peer fe80::1ff:fe23:4567:890a%eth0, ula fd12:3456:789a::1',
  ])('leaves infrastructure addresses alone: %s', (text) => expect(found(text)).toEqual([]));

  it('does not take a four-part section number for an address', () => {
    expect(found('see RFC 7518, Section 6.2.1.1 for the curve')).toEqual([]);
    expect(found('per chapter 1.2.3.4 of the runbook')).toEqual([]);
  });
  it('rejects bad octets and four-part versions', () => {
    expect(found('host 256.1.1.1')).toEqual([]);
    expect(found('upgraded to version 1.2.3.4')).toEqual([]);
    expect(found('std::vector<int> at 10:22:33 on 00:1a:2b:3c:4d:5e')).toEqual([]);
  });
});

describe('secret', () => {
  const cases: [string, string][] = [
    ['key AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
    ['ASIAY34FZKBOKMUTVV7A was leaked', 'ASIAY34FZKBOKMUTVV7A'],
    [
      'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    ],
    [
      'the aws secret is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    ],
    [
      'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
      'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
    ],
    [
      'xapp-1-A0123456789-1234567890123-abcdef0123456789',
      'xapp-1-A0123456789-1234567890123-abcdef0123456789',
    ],
    ['use ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789', 'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789'],
    ['gho_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789', 'gho_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789'],
    [
      'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456',
      'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456',
    ],
    ['glpat-xYz0123456789AbCdEfGh', 'glpat-xYz0123456789AbCdEfGh'],
    ['sk_live_51HqLyjAbCdEfGhIjKlMnOpQr', 'sk_live_51HqLyjAbCdEfGhIjKlMnOpQr'],
    ['rk_test_51HqLyjAbCdEfGhIjKlMnOpQr', 'rk_test_51HqLyjAbCdEfGhIjKlMnOpQr'],
    [
      'Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    ],
    ['DATABASE_URL=postgres://app:hunter2@db:5432/app', 'hunter2'],
    ['password=hunter2', 'hunter2'],
    ['db_password: "correct horse battery"', 'correct horse battery'],
    ['{"api_key": "a1b2c3d4e5f6g7h8"}', 'a1b2c3d4e5f6g7h8'],
    ["client_secret='Zx9!qT2#mP'", 'Zx9!qT2#mP'],
    ['X-Api-Key: 9f8e7d6c5b4a39281706f5e4d3c2b1a0', '9f8e7d6c5b4a39281706f5e4d3c2b1a0'],
    ['export GITLAB_TOKEN=Qm9vbGVhbkhpZ2hFbnRyb3B5U3RyaW5nMTIz', 'Qm9vbGVhbkhpZ2hFbnRyb3B5U3RyaW5nMTIz'],
    ['mysql -u root --password S3cure!pw', 'S3cure!pw'],
    ['fyi my password is Tr0ub4dor&3.', 'Tr0ub4dor&3'],
  ];
  it.each(cases)('finds the value in %s', (text, value) => expectOnly(text, 'secret', value));

  it('covers a PEM private key block whole', () => {
    const pem = [
      '-----BEGIN RSA PRIVATE KEY-----',
      'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun',
      '-----END RSA PRIVATE KEY-----',
    ].join('\n');
    expectOnly(`here is the key:\n${pem}\nthanks`, 'secret', pem);
    const openssh =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----';
    expectOnly(openssh, 'secret', openssh);
  });
  it('scores a publishable Stripe key low but reported, a secret key high', () => {
    const [pk] = detectSecrets('pk_live_51HqLyjAbCdEfGhIjKlMnOpQr');
    const [sk] = detectSecrets('sk_live_51HqLyjAbCdEfGhIjKlMnOpQr');
    expect(pk?.score).toBeGreaterThanOrEqual(DEFAULT_THRESHOLD);
    expect(pk?.score).toBeLessThan(sk?.score ?? 0);
  });
  it('skips placeholders, templates and non-secret keys', () => {
    for (const text of [
      'password=${DB_PASSWORD}',
      'password: ********',
      'token: <your-token>',
      'api_key: null',
      'secret_name: db-credentials',
      'token_ttl: 3600',
      'password_file=/run/secrets/db',
      'token_url=https://auth.example.com/token',
      'the token is expired',
      'postgres://app:${PG_PASS}@db/app',
      'author: Jane',
    ])
      expect([text, found(text)]).toEqual([text, []]);
  });
});

describe('hard negatives', () => {
  it.each([
    'order 55102 shipped',
    'ORD-88213 is delayed',
    'request id 123e4567-e89b-12d3-a456-426614174000 failed',
    'at 2024-05-01T10:22:33.123Z the pod restarted',
    'on 2024-05-01 and 01/05/2024 and 01.05.2024',
    'deployed v2.3.14 then 1.2.3 then 10.4.0-rc.1',
    'commit 3f9c2a1 fixes the leak',
    'commit 3f9c2a1b4e5d6f708192a3b4c5d6e7f809102a3b reverts it',
    'merged a1b2c3d4e5f6 into main',
    'took 1500ms, then 2h30m, p99 250 ms',
    'image is 512MB, disk 1.5 TB, 10 000 000 rows',
    'epoch 1714557600 and 1714557600123',
    'tx 98765432101234567890 settled',
    'ticket #4155550132',
    'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    'retry in 30s; port 8080; pid 41211; build 20240501.3',
    'chart nginx-15.2.3, helm 3.14.4, node 20.19.0',
    'the ratio was 3:2 and the time 12:30',
  ])('%s has no finding', (text) => expect(found(text)).toEqual([]));
});

describe('detectPii', () => {
  it('resolves overlaps: the higher score wins', () => {
    // The key=value rule and the GitHub token rule both cover the token; one finding remains.
    const text = 'token=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789';
    const findings = detectPii(text);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.score).toBeGreaterThan(0.9);
  });
  it('reports several types sorted by start, with UTF-16 offsets', () => {
    const text = '🚨 page 👩‍💻 jane@example.com, card 4111 1111 1111 1111, from 198.51.100.3';
    const findings = detectPii(text);
    expect(findings.map((f) => f.type)).toEqual(['email', 'credit_card', 'ip_address']);
    expect(findings[0]?.start).toBe(text.indexOf('jane'));
    for (const f of findings) expect(f.score).toBeGreaterThanOrEqual(0.5);
    expect(text.slice(findings[1]!.start, findings[1]!.end)).toBe('4111 1111 1111 1111');
  });
  it('honours a threshold and a type filter', () => {
    expect(detectPii('4155550132', { threshold: 0.2 })).toHaveLength(1);
    expect(detectPii('jane@example.com 198.51.100.3', { types: ['ip_address'] }).map((f) => f.type)).toEqual([
      'ip_address',
    ]);
  });
  it('handles a 500-character chat message', () => {
    const base =
      'hey @oncall, prod-api 2.14.3 is throwing 502s since 10:42 (order 55102, ORD-88213). Ping jane.doe@example.com or ' +
      'call +1-415-555-0132. Client 203.0.113.17:6379, token=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789. commit 3f9c2a1 ' +
      'fixes the retry loop; see request 123e4567-e89b-12d3-a456-426614174000 at 2024-05-01T10:42:00Z. ';
    const message = (base + base).slice(0, 500);
    expect(message).toHaveLength(500);
    const findings = detectPii(message);
    const types = findings.map((f) => f.type);
    expect(types).toEqual(expect.arrayContaining(['email', 'phone', 'ip_address', 'secret']));
    for (let i = 0; i < 200; i++) detectPii(message);
    expect(detectPii('x'.repeat(100_000))).toEqual([]);
  });
});

describe('cases found by the labelled set', () => {
  it('leaves the SSN grouping (3-2-4) to the SSN detector: never a phone', () => {
    expect(detectPii('ref 000-87-9521 in the ledger')).toEqual([]);
    expect(detectPii('call 415-55-1234 now').filter((f) => f.type === 'phone')).toEqual([]);
    expect(detectPii('ssn 123-45-6789')).toEqual([
      { type: 'us_ssn', start: 4, end: 15, score: expect.any(Number) },
    ]);
  });

  it('finds OpenAI-style project keys, and not words that merely start with sk-', () => {
    const key = 'sk-proj-abcDEF123_ghiJKL456-mnoPQR789stuVWX012yz';
    const text = `OPENAI_API_KEY=${key}`;
    const [finding] = detectPii(text);
    expect(finding).toMatchObject({ type: 'secret', start: text.indexOf(key), end: text.length });
    expect(detectPii('pip install scikit-learn and sk-learn-tools')).toEqual([]);
  });
});

describe('context scoring', () => {
  it('reads a word the window would cut as the whole word ("support" is not "port")', () => {
    const cut = `${'x'.repeat(10)} support${' '.repeat(36)}`;
    expect(scoreWithContext(`${cut}020 7946 0958`, cut.length, 'phone', 0.7, 0.3, 0.4)).toBe(0.7);
    const port = `port${' '.repeat(36)}`;
    expect(scoreWithContext(`${port}020 7946 0958`, port.length, 'phone', 0.7, 0.3, 0.4)).toBe(0.3);
  });

  it('lets the keyword nearer the value decide when both kinds are in the window', () => {
    const boosted = detectCards('order 18 was paid by card 5555555555554444')[0]?.score ?? 0;
    const penalised = detectCards('card on file for order 5555555555554444')[0]?.score ?? 1;
    expect(boosted).toBeGreaterThanOrEqual(0.9);
    expect(penalised).toBeLessThan(DEFAULT_THRESHOLD);
    expect(found('notes from the call: SSN 536 22 8745, verified')).toEqual([['us_ssn', '536 22 8745']]);
  });

  it('reads snake_case keys as words, and applies both words of one compound', () => {
    expect(found('phone_number: 4155550132')).toEqual([['phone', '4155550132']]);
    expect(found('{"tracking_number":"415555013277"}')).toEqual([]);
    expect(found('{"order_id": 5555555555554444}')).toEqual([]);
  });

  it('takes tax ids for SSN context, and a number after an SSN word for no phone', () => {
    expect(found('{"field":"tax_id","value":"536228745"}')).toEqual([['us_ssn', '536228745']]);
    expect(found('customer SSN 536228745, call back later')).toEqual([['us_ssn', '536228745']]);
  });

  it('knows phone words in French, Spanish, German and Japanese', () => {
    expect(found('il a laissé son numéro 0612345678 hier')).toEqual([['phone', '0612345678']]);
    expect(found('su número: 612345678')).toEqual([['phone', '612345678']]);
    expect(found('Handy 01701234567')).toEqual([['phone', '01701234567']]);
    expect(found('電話 0312345678')).toEqual([['phone', '0312345678']]);
    expect(found('la référence 0612345678 est close')).toEqual([]);
  });

  it('judges a CSV value by its column header, not by the cells before it', () => {
    const csv = 'order_ref,card_number,amount\nORD-1,5555555555554444,10.00\nORD-2,4111111111111111,12.50';
    expect(found(csv)).toEqual([
      ['credit_card', '5555555555554444'],
      ['credit_card', '4111111111111111'],
    ]);
    const ssns = 'name,email_opt_in,ssn,plan\nAnn,yes,536228745,pro\nBob,no,078051120,free';
    expect(found(ssns)).toEqual([
      ['us_ssn', '536228745'],
      ['us_ssn', '078051120'],
    ]);
    expect(found('order_ref,amount\n5555555555554444,10\n4111111111111111,12')).toEqual([]);
  });

  it('finds a CSV header only above rows with as many cells, and only when it reads as names', () => {
    const text = 'x,y,z\nname,ssn\nAnn,536228745';
    expect(csvColumnHeader(text, text.indexOf('536'))).toBe('ssn');
    const afterProse = 'see below, thanks\n\nname,ssn\nAnn,536228745';
    expect(csvColumnHeader(afterProse, afterProse.indexOf('536'))).toBe('ssn');
    const values = '1,2\n3,536228745';
    expect(csvColumnHeader(values, values.indexOf('536'))).toBeUndefined();
    const prose = 'ssn, please: 536228745';
    expect(csvColumnHeader(prose, prose.indexOf('536'))).toBeUndefined();
    const blankFirst = '\nname,ssn\nAnn,536228745';
    expect(csvColumnHeader(blankFirst, blankFirst.indexOf('536'))).toBe('ssn');
  });

  it('reads the header of every row of a long export, remembering the layout between rows', () => {
    const rows = Array.from({ length: 2000 }, (_, i) => `user${i},536-22-${String(1000 + i)},pro`);
    const csv = ['name,ssn_or_tax_id,plan', ...rows].join('\n');
    const headers = new CsvHeaders(csv);
    expect(headers.cellAbove(csv.lastIndexOf('536'))).toBe('ssn_or_tax_id');
    expect(detectPii(csv).filter((f) => f.type === 'us_ssn')).toHaveLength(2000);
    const bare = [
      'name,ssn',
      ...Array.from({ length: 500 }, (_, i) => `u${i},536${String(221000 + i)}`),
    ].join('\n');
    expect(detectPii(bare).filter((f) => f.type === 'us_ssn')).toHaveLength(500);
  });
});

describe('AWS secret access keys', () => {
  const key = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

  it('scores a key next to its access key id or an AWS word high', () => {
    const paired = `leaked AKIAIOSFODNN7EXAMPLE / ${key}`;
    expect(found(paired)).toEqual([
      ['secret', 'AKIAIOSFODNN7EXAMPLE'],
      ['secret', key],
    ]);
    expect(detectAwsSecretKeys(paired)[0]?.score).toBeGreaterThanOrEqual(0.9);
    expect(detectAwsSecretKeys(`aws creds rotated: ${key}`)[0]?.score).toBeGreaterThanOrEqual(0.9);
  });

  it('reports a bare key that looks like 30 random bytes, lower', () => {
    for (const bare of [
      key,
      'Zq3+8vN0xKp2Lm9/YtR4sWd6Hc1Ej7Fb5Ua0Gi2O',
      '9fKq2ZxT7bN4mWc8Lp1Rv6Hs3Jd0Yg5Ae2Ui7Oo4',
    ]) {
      const [finding] = detectAwsSecretKeys(`blob ${bare}.`);
      expect([bare, finding?.score]).toEqual([bare, 0.6]);
    }
    expect(found(`${key}`)).toEqual([['secret', key]]);
  });

  it('leaves 40-character strings that are not key material', () => {
    for (const text of [
      'commit 3f9c2a1b4e5d6f708192a3b4c5d6e7f809102a3b', // sha1: hex, one case
      'UGF0aWVuY2UgaXMgdGhlIGtleSB0byBzdWNjZXNz', // base64 of an English sentence
      'see /models/V1beta2OpaqueDeviceConfiguration', // a path of identifiers
      'see github.com/randy408/libspng/blob/master/LICENSE',
      'class AbstractSingletonProxyFactoryBean2Impl', // camelCase: few class changes
      'type BatchV1ApiListJobForAllNamespacesRequest', // PascalCase: many changes, but it spells words
      'cursor=eyJhZnRlciI6MzU3MSwibGltaXQiOjUwfQAbCdEfG', // base64 JSON
      `x_${key}`, // part of a longer token
      `${key}-suffix`,
      `${key}==`,
    ])
      expect([text, detectAwsSecretKeys(text)]).toEqual([text, []]);
  });

  it('leaves the last line of a certificate body', () => {
    const body = `-----BEGIN CERTIFICATE-----\n${'MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ'}\nPh13jv2FIOkjO/WHhHEzRnS2VQqivqIbsQIDAQAB\n-----END CERTIFICATE-----`;
    expect(detectAwsSecretKeys(body)).toEqual([]);
  });
});

describe('merged key=value and prose secret rule', () => {
  it('finds "… is <value>" after any secret key, when the value looks random', () => {
    expect(found('fyi the db_password is Xy7#pQ2!zz')).toEqual([['secret', 'Xy7#pQ2!zz']]);
    expect(found('the api key was 9f8e7d6c5b4a3928, rotate it')).toEqual([['secret', '9f8e7d6c5b4a3928']]);
    expect(found('the token was revoked yesterday')).toEqual([]);
  });
  it('reads "is <word>" as a value only after words that name a secret', () => {
    expect(found('if the current credential is expired, refresh it')).toEqual([]);
    expect(found('function isKey(c: unknown): credential is NamedKeyCredential;')).toEqual([]);
    expect(found('when Auth is disabled, skip the check')).toEqual([]);
    expect(found('asserts msalToken is ValidMsalToken2')).toEqual([]);
  });
  it('still reads key=value and key: value', () => {
    expect(found('api key: Zx9qT2mP7wL4')).toEqual([['secret', 'Zx9qT2mP7wL4']]);
    expect(found('SECRET_TOKEN=s3cr3t-v4lue')).toEqual([['secret', 's3cr3t-v4lue']]);
  });
});

describe('URL credentials', () => {
  it('takes the password from any scheme, including composite ones', () => {
    expect(found('amqp+ssl://svc:Rabbit99pw@mq.example.net/vhost')).toEqual([['secret', 'Rabbit99pw']]);
    expect(found('see(redis://:R3disPass@cache:6379)')).toEqual([['secret', 'R3disPass']]);
  });
  it('needs a scheme that starts a word', () => {
    expect(detectSecrets('x_9://user:notapass@host')).toEqual([]);
  });
});

describe("scanning shortcuts keep the regexes' answers", () => {
  it('finds emails only from the start of the local part, within 64 characters', () => {
    expect(detectEmails(`${'a'.repeat(64)}@example.com`)).toHaveLength(1);
    expect(detectEmails(`${'a'.repeat(65)}@example.com`)).toEqual([]);
    expect(detectEmails('.jane@example.com')).toEqual([]);
    // As the whole-text regex does: "b@example.com" starts after an @, which no local part contains.
    expect(detectEmails('a@b@example.com x@example.com').map((f) => f.start)).toEqual([2, 16]);
  });

  it('tries IPv6 only where an address can start', () => {
    const text = 'at 10:22:33 key: value 2001:db8::7 and [2001:db8::1]:443 abcdef:1:2 x::1';
    const ips = detectIps(text).map((f) => text.slice(f.start, f.end));
    expect(ips).toEqual(['2001:db8::7', '2001:db8::1']);
  });

  it('finds runs of a character set of at least the minimum length', () => {
    const digits = charSet((c) => c >= 48 && c <= 57);
    expect(findRuns('1234567 12 123456789', digits, 7)).toEqual([0, 7, 11, 20]);
    expect(findRuns('ab1234567', digits, 7)).toEqual([2, 9]);
    expect(findRuns('123456', digits, 7)).toEqual([]);
    expect(findRuns('', digits, 1)).toEqual([]);
  });

  it('counts the digits and dots of each number run once per text', () => {
    const scan = new TextScan('call 415-555-0132 or 12-34, card 4111 1111 1111 1111 from 203.0.113.7');
    expect(scan.numberRuns().map((r) => [r.digits, r.dots])).toEqual([
      [10, 0],
      [16, 0],
      [8, 3],
    ]);
    expect(scan.numberRuns()).toBe(scan.numberRuns());
  });

  it('matches inside number runs as the regex does over the whole text, look-arounds included', () => {
    const text = 'v1.2.3.4 203.0.113.7 203.0.113.8.9 (198.51.100.1)';
    const ipv4 = /(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)/g;
    const inRuns: string[] = [];
    for (const r of new TextScan(text).numberRuns())
      forEachMatchInRun(text, r.start, r.end, ipv4, (m, index) =>
        inRuns.push(text.slice(index, index + m[0].length)),
      );
    expect(inRuns).toEqual([...text.matchAll(ipv4)].map((m) => m[0]));
    expect(inRuns).toEqual(['203.0.113.7', '198.51.100.1']);
  });
});

describe('resolveOverlaps', () => {
  const f = (start: number, end: number, score: number): Finding => ({ type: 'secret', start, end, score });

  it('resolves a chain of overlaps by rank, not by position', () => {
    // a overlaps b, b overlaps c, a and c do not overlap.
    const a = f(0, 10, 0.9);
    const b = f(8, 22, 0.8);
    const c = f(20, 30, 0.95);
    expect(resolveOverlaps([b, c, a])).toEqual([a, c]);
    const strongB = f(8, 22, 0.99);
    expect(resolveOverlaps([a, strongB, c])).toEqual([strongB]);
  });
  it('keeps findings that touch but do not overlap, sorted by start', () => {
    const x = f(5, 10, 0.6);
    const y = f(0, 5, 0.7);
    expect(resolveOverlaps([x, y])).toEqual([y, x]);
  });
  it('breaks ties by length, then by the earlier start', () => {
    const short = f(0, 5, 0.8);
    const long = f(3, 12, 0.8);
    expect(resolveOverlaps([short, long])).toEqual([long]);
    const first = f(0, 6, 0.8);
    const second = f(3, 9, 0.8);
    expect(resolveOverlaps([second, first])).toEqual([first]);
  });
});
