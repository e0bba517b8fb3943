import { REDACTED, redactSecrets, redactSecretsInText } from '../../engines/audit/redact-secrets';

describe('redactSecrets', () => {
  it('redacts values under secret-looking keys at any depth, whatever their spelling', () => {
    const redacted = redactSecrets({
      password: 'hunter2',
      Passwd: 'x1',
      nested: {
        client_secret: 'cs-1',
        'X-Api-Key': 'k-1',
        list: [{ accessToken: 't-1' }, { apikey: 'k-2' }],
      },
      headers: { Authorization: 'Basic dXNlcjpwYXNz', cookie: 'sid=abc', 'Set-Cookie': 'sid=def' },
      private_key: { pem: 'whatever' },
      credentials: ['a', 'b'],
      db: { connectionPassword: 1234 },
      service: 'payments',
      replicas: 3,
    });
    expect(redacted).toEqual({
      password: REDACTED,
      Passwd: REDACTED,
      nested: {
        client_secret: REDACTED,
        'X-Api-Key': REDACTED,
        list: [{ accessToken: REDACTED }, { apikey: REDACTED }],
      },
      headers: { Authorization: REDACTED, cookie: REDACTED, 'Set-Cookie': REDACTED },
      private_key: REDACTED,
      credentials: REDACTED,
      db: { connectionPassword: REDACTED },
      service: 'payments',
      replicas: 3,
    });
  });

  it('leaves keys that only resemble secret words alone, and empty secret fields empty', () => {
    expect(redactSecrets({ author: 'alice', keyboard: 'us', passed: true, password: null })).toEqual({
      author: 'alice',
      keyboard: 'us',
      passed: true,
      password: null,
    });
  });

  it('never changes its input', () => {
    const input = { password: 'p', details: { note: 'Bearer abcdefghijklmnop' } };
    const copy = structuredClone(input);
    redactSecrets(input);
    expect(input).toEqual(copy);
  });

  it('returns plain JSON data: dates as text, errors with their message, cycles cut', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const shared = { id: 1 };
    const redacted = redactSecrets({
      when: new Date('2025-01-02T03:04:05.000Z'),
      error: new Error('login failed for postgres://app:hunter2@db:5432/orders'),
      cyclic,
      both: [shared, shared],
    });
    expect(redacted).toEqual({
      when: '2025-01-02T03:04:05.000Z',
      error: { name: 'Error', message: `login failed for postgres://app:${REDACTED}@db:5432/orders` },
      cyclic: { name: 'loop', self: '[Circular]' },
      both: [{ id: 1 }, { id: 1 }],
    });
  });

  it('masks credentials inside strings anywhere, object keys included', () => {
    const token = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';
    const redacted = redactSecrets({ details: { [token]: true, argv: ['--token', `x ${token}`] } });
    expect(JSON.stringify(redacted)).not.toContain(token);
  });
});

describe('redactSecretsInText', () => {
  // Every value here is made up; each has the shape of the real thing.
  const cases: [string, string, string][] = [
    ['URL user:password', 'connect to postgres://app:s3cr3t-pw@db.internal:5432/orders failed', 's3cr3t-pw'],
    ['Bearer token', 'sent header Bearer abcDEF123456.789-xyz_~+/ to the API', 'abcDEF123456.789-xyz_~+/'],
    ['Authorization header', 'Authorization: Basic dXNlcjpodW50ZXIy', 'dXNlcjpodW50ZXIy'],
    ['AWS access key id', 'aws key AKIAIOSFODNN7EXAMPLE in env', 'AKIAIOSFODNN7EXAMPLE'],
    ['AWS session key id', 'ASIAY34FZKBOKMUTVV7A', 'ASIAY34FZKBOKMUTVV7A'],
    [
      'GitHub token',
      'pushed with ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789',
      'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789',
    ],
    [
      'GitHub OAuth token',
      'gho_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 used',
      'gho_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789',
    ],
    [
      'GitHub app token',
      'ghs_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789',
      'ghs_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789',
    ],
    [
      'GitHub fine-grained token',
      'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRS',
      'abcdefghijklmnopqrstuvwxyz0123456789',
    ],
    [
      'Slack bot token',
      'SLACK xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
      'AbCdEfGhIjKlMnOpQrStUvWx',
    ],
    ['Slack user token', 'xoxp-123456789012-abcdefABCDEF', 'xoxp-123456789012-abcdefABCDEF'],
    ['Stripe live key', 'stripe sk_live_51HaBcDeFgHiJkLmNoP', 'sk_live_51HaBcDeFgHiJkLmNoP'],
    ['Stripe test key', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc'],
    ['Stripe restricted key', 'rk_live_51HaBcDeFgHiJkLmNoP', 'rk_live_51HaBcDeFgHiJkLmNoP'],
    [
      'JWT',
      'cookie had eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk4 in it',
      'dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk4',
    ],
    ['password=', 'mysql -u root password=hunter2 -h db', 'hunter2'],
    ['token: in JSON text', '{"user":"a","token": "tok-98765"}', 'tok-98765'],
    ['api_key in a query string', 'GET /v1/data?api_key=k-55555&limit=5', 'k-55555'],
    ['client_secret=', 'client_secret=cs_abcdef;next', 'cs_abcdef'],
    ['aws secret key', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'wJalrXUtnFEMI'],
  ];

  it.each(cases)('masks: %s', (_name, text, secret) => {
    const redacted = redactSecretsInText(text);
    expect(redacted).not.toContain(secret);
    expect(redacted).toContain(REDACTED);
  });

  it('keeps what is around a secret readable', () => {
    expect(redactSecretsInText('connect to postgres://app:pw@db:5432/orders failed')).toBe(
      `connect to postgres://app:${REDACTED}@db:5432/orders failed`,
    );
    expect(redactSecretsInText('GET /v1/data?api_key=k-5&limit=5')).toBe(
      `GET /v1/data?api_key=${REDACTED}&limit=5`,
    );
    expect(redactSecretsInText('{"token":"t-1","user":"a"}')).toBe(`{"token":"${REDACTED}","user":"a"}`);
    expect(redactSecretsInText('Authorization: Bearer abcdefghijkl rest')).toBe(
      `Authorization: ${REDACTED} rest`,
    );
  });

  it('masks a PEM private key block, and one cut short', () => {
    const body = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7';
    const pem = `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----`;
    expect(redactSecretsInText(`key:\n${pem}\nafter`)).toBe(`key:\n${REDACTED}\nafter`);
    expect(redactSecretsInText(`-----BEGIN PRIVATE KEY-----\n${body.slice(0, 20)}`)).toBe(REDACTED);
  });

  it('leaves ordinary operations text as it is', () => {
    for (const text of [
      'restart payments in production',
      'web:alice',
      'https://grafana.example.com/d/abc?orgId=1',
      'scaled orders from 2 to 5 replicas in 1840 ms',
      'service.restart',
    ])
      expect(redactSecretsInText(text)).toBe(text);
  });
});
