import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** `opsbot quality …` as a user runs it: the built CLI (npm test builds it first) on the demo files. */
const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'opsbot.js');
const DEMO = path.join(ROOT, 'demo', 'quality');
const RULES = path.join(DEMO, 'order-rules.yaml');
const ORDERS = path.join(DEMO, 'orders.jsonl');
const CUSTOMERS = path.join(DEMO, 'customers.jsonl');
const INVENTORY = path.join(DEMO, 'inventory.jsonl');
const RPS = path.join(DEMO, 'checkout-rps.jsonl');
/** For the tests that run the CLI more than once: each run loads the whole CLI, seconds on a busy machine. */
const SEVERAL_RUNS_MS = 90_000;

function opsbot(args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', OPSBOT_CONFIG: path.join(ROOT, 'opsbot.config.yaml') },
    timeout: 20_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function jsonl(dir: string, name: string, lines: unknown[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return file;
}

describe('opsbot quality CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'opsbot-cli-quality-'));
  });

  describe('validate', () => {
    it('exits 1 on the demo orders, with one line per violation and the summary', () => {
      const { code, stdout, stderr } = opsbot(['quality', 'validate', '--rules', RULES, '--file', ORDERS]);
      expect({ code, stderr }).toEqual({ code: 1, stderr: '' });
      expect(stdout).toBe(
        [
          'line 5 order.created: amountCents 0 is below the minimum 1 (rules[0] range)',
          'line 11 order.created: customer.email is not a valid email (rules[0] format)',
          'line 17 order.created: currency is not one of EUR, USD, GBP (rules[0] enum)',
          'line 23 order.shipped: shippedAt is not at or after createdAt (rules[1] compare)',
          'line 24 order.created: customer.id is missing (rules[0] required)',
          'line 32 order.created: orderId must match pattern "^ord-[0-9]+$" (rules[0] schema)',
          'orders: 47 events (37 checked), 83.8% valid; 6 violations (1 compare shippedAt, 1 enum currency, 1 format customer.email, …)',
          '',
        ].join('\n'),
      );
      expect(stdout).not.toContain('(at)example.com');
    });

    it('--json prints the report', () => {
      const { code, stdout } = opsbot(['quality', 'validate', '--rules', RULES, '--file', ORDERS, '--json']);
      expect(code).toBe(1);
      const report = JSON.parse(stdout);
      expect(report).toMatchObject({
        dataset: 'orders',
        validation: { records: 47, checked: 37, valid: 31, validPercent: 83.8, violations: 6 },
      });
      expect(report.validation.byCheck).toHaveLength(6);
      expect(report.validation.details[0]).toEqual({
        line: 5,
        ruleIndex: 0,
        check: 'range',
        field: 'amountCents',
        message: 'amountCents 0 is below the minimum 1',
      });
    });

    it(
      'exits 0 when every event is valid, reading the type and payload where --type-field and --data-field say',
      () => {
        const events = jsonl(dir, 'valid.jsonl', [
          {
            kind: 'order.shipped',
            body: { orderId: 'ord-1', createdAt: '2026-11-20T09:00:00Z', shippedAt: '2026-11-20T10:00:00Z' },
          },
          { kind: 'order.shipped', orderId: 'ord-2', shippedAt: '2026-11-20T10:00:00Z' },
        ]);
        const args = ['quality', 'validate', '--rules', RULES, '--file', events, '--type-field', 'kind'];
        const { code, stdout } = opsbot([...args, '--data-field', 'body']);
        expect(code).toBe(0);
        expect(stdout).toBe('valid: 2 events, 100% valid; no violations\n');
        // With the default data field, neither event has `data`: each is checked whole, and the first has
        // no orderId or shippedAt at its top level.
        const whole = opsbot(args);
        expect(whole.code).toBe(1);
        expect(whole.stdout).toContain('line 1 order.shipped: orderId is missing (rules[1] required)');
      },
      SEVERAL_RUNS_MS,
    );
  });

  describe('reconcile', () => {
    it('exits 1 on the demo customers and inventory, listing every difference', () => {
      const { code, stdout, stderr } = opsbot([
        'quality',
        'reconcile',
        '--left',
        CUSTOMERS,
        '--right',
        INVENTORY,
        '--key',
        'orderId',
      ]);
      expect({ code, stderr }).toEqual({ code: 1, stderr: '' });
      expect(stdout).toBe(
        [
          'missing in inventory: ord-10007',
          'missing in customers: ord-10031',
          'duplicated in inventory: ord-10012 (2 records)',
          'ord-10018 quantity: customers 1, inventory 2',
          'ord-10021 sku: customers "SKU-FILTER-04", inventory "SKU-GRINDER-05"',
          'customers vs inventory by orderId: 23 matched; 1 missing in inventory, 1 missing in customers, ' +
            '1 duplicated key in inventory, 2 mismatched fields (1 quantity, 1 sku)',
          '',
        ].join('\n'),
      );
    });

    it('--json prints the report with the reconciliation', () => {
      const args = ['quality', 'reconcile', '--left', CUSTOMERS, '--right', INVENTORY, '--key', 'orderId'];
      const { code, stdout } = opsbot([...args, '--fields', 'quantity', '--json']);
      expect(code).toBe(1);
      expect(JSON.parse(stdout)).toEqual({
        dataset: 'customers vs inventory',
        reconciliation: {
          leftName: 'customers',
          rightName: 'inventory',
          key: 'orderId',
          matched: 23,
          missingInLeft: ['ord-10031'],
          missingInRight: ['ord-10007'],
          duplicatesInLeft: [],
          duplicatesInRight: [{ key: 'ord-10012', count: 2 }],
          mismatches: [{ key: 'ord-10018', field: 'quantity', left: 1, right: 2 }],
          recordsWithoutKey: [],
          agrees: false,
        },
      });
    });

    it(
      'exits 0 when both agree, and names the line of a record without a key',
      () => {
        const a = jsonl(dir, 'a.jsonl', [{ id: 1, qty: 2 }, '', { id: 2, qty: 1 }]);
        const b = jsonl(dir, 'b.jsonl', [
          { id: 2, qty: 1 },
          { id: 1, qty: 2 },
        ]);
        const agree = opsbot(['quality', 'reconcile', '--left', a, '--right', b, '--key', 'id']);
        expect(agree).toEqual({ code: 0, stdout: 'a vs b by id: 2 matched; they agree\n', stderr: '' });
        const c = jsonl(dir, 'c.jsonl', [{ id: 1, qty: 2 }, { qty: 5 }, { id: 2, qty: 1 }]);
        const keyless = opsbot(['quality', 'reconcile', '--left', a, '--right', c, '--key', 'id']);
        expect(keyless.code).toBe(1);
        expect(keyless.stdout).toContain('c line 2: no id\n');
      },
      SEVERAL_RUNS_MS,
    );
  });

  describe('anomalies', () => {
    it('exits 1 on the demo series, explaining the planted spike and drop', () => {
      const args = ['quality', 'anomalies', '--file', RPS, '--field', 'rps', '--season', '24'];
      const { code, stdout, stderr } = opsbot(args);
      expect({ code, stderr }).toEqual({ code: 1, stderr: '' });
      const lines = stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(
        /^9\.6 at 2026-11-18T10:00:00Z is \d+\.\d robust σ below its seasonal baseline \d+ \(median of the last 4 values at this hour of the cycle\)$/,
      );
      expect(lines[1]).toMatch(
        /^412 at 2026-11-20T14:00:00Z is \d+\.\d robust σ above its seasonal baseline \d+ /,
      );
      expect(lines[2]).toBe(`2 anomalies in rps of checkout-rps (1 spike, 1 drop); the largest: ${lines[1]}`);
    });

    it(
      '--json prints the report; epoch milliseconds are times too; a quiet series exits 0',
      () => {
        const { code, stdout } = opsbot([
          'quality',
          'anomalies',
          ...['--file', RPS, '--field', 'rps', '--season', '24', '--threshold', '6', '--json'],
        ]);
        expect(code).toBe(1);
        const report = JSON.parse(stdout);
        expect(report.anomalies).toHaveLength(1);
        expect(report.anomalies[0]).toMatchObject({ series: 'rps', points: 240 });
        expect(report.anomalies[0].anomalies.map((a: any) => [a.t, a.value, a.direction])).toEqual([
          [Date.parse('2026-11-18T10:00:00Z'), 9.6, 'drop'],
          [Date.parse('2026-11-20T14:00:00Z'), 412.3, 'spike'],
        ]);

        const quiet = jsonl(
          dir,
          'quiet.jsonl',
          Array.from({ length: 60 }, (_, i) => ({ at: 1_700_000_000_000 + i * 60_000, ms: 20 + (i % 3) })),
        );
        const calm = opsbot(['quality', 'anomalies', '--file', quiet, '--field', 'ms', '--time-field', 'at']);
        expect(calm).toEqual({ code: 0, stdout: 'no anomalies in ms of quiet (60 points)\n', stderr: '' });
      },
      SEVERAL_RUNS_MS,
    );
  });

  describe('exits 2 with one line for bad input, printing nothing', () => {
    function expectUsageErrors(cases: readonly (readonly [string[], string])[]): void {
      for (const [args, message] of cases) {
        const { code, stdout, stderr } = opsbot(['quality', ...args]);
        expect({ args, code, stdout }).toEqual({ args, code: 2, stdout: '' });
        expect(stderr).toMatch(/^opsbot: .*\n$/);
        expect(stderr).toContain(message);
      }
    }

    it(
      'validate',
      () => {
        const missing = path.join(dir, 'missing.jsonl');
        const badJson = jsonl(dir, 'bad-json.jsonl', [
          { type: 'order.created', data: {} },
          '',
          '{"type": oops}',
        ]);
        const noType = jsonl(dir, 'no-type.jsonl', [{ data: { orderId: 'ord-1' } }]);
        const badRules = path.join(dir, 'rules.yaml');
        writeFileSync(badRules, 'rules:\n  - eventType: x\n    checks:\n      - range: { field: amount }\n');
        expectUsageErrors([
          [['validate', '--rules', RULES, '--file', missing], `cannot read ${missing}: ENOENT`],
          [['validate', '--rules', RULES, '--file', badJson], `${badJson} line 3: not valid JSON`],
          [['validate', '--rules', RULES, '--file', noType], `${noType} line 1: needs a "type" string field`],
          [
            ['validate', '--rules', badRules, '--file', ORDERS],
            `${badRules}: rules[0].checks[0]: range needs min or max`,
          ],
          [['validate', '--file', ORDERS], "required option '--rules <file>' not specified"],
        ]);
      },
      SEVERAL_RUNS_MS,
    );

    it(
      'reconcile',
      () => {
        const missing = path.join(dir, 'missing.jsonl');
        expectUsageErrors([
          [
            ['reconcile', '--left', CUSTOMERS, '--right', missing, '--key', 'orderId'],
            `cannot read ${missing}`,
          ],
          [['reconcile', '--left', CUSTOMERS, '--right', INVENTORY, '--key', 'a..b'], 'must be a field path'],
          [
            ['reconcile', '--left', CUSTOMERS, '--right', INVENTORY],
            "required option '--key <path>' not specified",
          ],
        ]);
      },
      SEVERAL_RUNS_MS,
    );

    it(
      'anomalies',
      () => {
        const notNumber = jsonl(dir, 'not-number.jsonl', [{ t: '2026-11-20T00:00:00Z', rps: 'fast' }]);
        const noTime = jsonl(dir, 'no-time.jsonl', [{ t: 'yesterday', rps: 1 }]);
        const backwards = jsonl(dir, 'backwards.jsonl', [
          { t: '2026-11-20T01:00:00Z', rps: 1 },
          { t: '2026-11-20T00:00:00Z', rps: 1 },
        ]);
        expectUsageErrors([
          [
            ['anomalies', '--file', notNumber, '--field', 'rps'],
            `${notNumber} line 1: needs a number in "rps"`,
          ],
          [['anomalies', '--file', noTime, '--field', 'rps'], `${noTime} line 1: needs a time in "t"`],
          [['anomalies', '--file', backwards, '--field', 'rps'], `${backwards} line 2: earlier than`],
          [['anomalies', '--file', RPS, '--field', 'rps', '--season', 'daily'], 'must be a whole number'],
          [['anomalies', '--file', RPS, '--field', 'rps', '--threshold', '0'], 'must be a number above 0'],
        ]);
      },
      SEVERAL_RUNS_MS,
    );
  });
});
