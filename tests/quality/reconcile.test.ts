import { seededRandom } from '../../bot/core/seeded-random';
import { agrees, reconcile, type FieldMismatch } from '../../engines/quality/data/reconcile';

interface Customer {
  customerId: string;
  email: string;
  tier: string;
  address: { city: string; country: string };
  balanceCents: number;
}

const TIERS = ['free', 'team', 'enterprise'];
const CITIES = ['Lisbon', 'Berlin', 'Dublin', 'Osaka'];

function customer(n: number): Customer {
  return {
    customerId: `cus_${1000 + n}`,
    email: `user${n}@example.com`,
    tier: TIERS[n % TIERS.length]!,
    address: { city: CITIES[n % CITIES.length]!, country: 'PT' },
    balanceCents: n * 37,
  };
}

/**
 * Two copies of `size` customers with differences planted at random (seeded) positions, and the answer a
 * reconciliation must give, in the order it must give it.
 */
function plantedDatasets(size: number, seed: number) {
  const random = seededRandom(seed);
  const role = new Map<number, string>();
  const pick = (name: string, count: number) => {
    const picked: number[] = [];
    while (picked.length < count) {
      const n = Math.floor(random() * size);
      if (role.has(n)) continue;
      role.set(n, name);
      picked.push(n);
    }
    return picked.sort((a, b) => a - b);
  };
  const missingInRight = pick('missingInRight', 7);
  const duplicatedLeft = pick('duplicatedLeft', 3);
  const duplicatedRight = pick('duplicatedRight', 4);
  pick('tierChanged', 5);
  pick('cityChanged', 3);
  pick('balanceNoise', 6);
  const left: unknown[] = [];
  const right: unknown[] = [];
  const mismatches: FieldMismatch[] = [];
  for (let n = 0; n < size; n++) {
    const l = customer(n);
    const r = customer(n);
    left.push(l);
    if (role.get(n) === 'duplicatedLeft') left.push({ ...l, tier: 'stale copy' });
    if (role.get(n) === 'missingInRight') continue;
    if (role.get(n) === 'tierChanged') {
      r.tier = 'legacy';
      mismatches.push({ key: l.customerId, field: 'tier', left: l.tier, right: 'legacy' });
    }
    if (role.get(n) === 'cityChanged') {
      r.address = { ...r.address, city: 'Porto' };
      mismatches.push({ key: l.customerId, field: 'address.city', left: l.address.city, right: 'Porto' });
    }
    // Within the tolerance: a rounding difference between the two systems, not a mismatch.
    if (role.get(n) === 'balanceNoise') r.balanceCents += 0.4;
    right.push(r);
    if (role.get(n) === 'duplicatedRight') right.push({ ...r, tier: 'stale copy' }, { ...r });
  }
  const extraInRight = [size + 3, size + 11].map(customer);
  right.splice(40, 0, extraInRight[0]);
  right.push(extraInRight[1]);
  left.splice(17, 0, { email: 'nokey@example.com' });
  right.splice(5, 0, { customerId: '', email: 'blank@example.com' });
  const id = (n: number) => customer(n).customerId;
  return {
    left,
    right,
    answer: {
      missingInRight: missingInRight.map(id),
      missingInLeft: extraInRight.map((c) => c.customerId),
      duplicatesInLeft: duplicatedLeft.map((n) => ({ key: id(n), count: 2 })),
      duplicatesInRight: duplicatedRight.map((n) => ({ key: id(n), count: 3 })),
      mismatches,
      recordsWithoutKey: [
        { side: 'left', index: 17 },
        { side: 'right', index: 5 },
      ],
      matched: size - missingInRight.length,
    },
  };
}

describe('reconcile on generated datasets with known answers', () => {
  it.each([1, 2, 3])('finds exactly the planted differences (seed %i)', (seed) => {
    const { left, right, answer } = plantedDatasets(500, seed);
    const result = reconcile(left, right, {
      key: 'customerId',
      leftName: 'crm',
      rightName: 'billing',
      numericTolerance: 0.5,
    });
    expect(result).toEqual({ leftName: 'crm', rightName: 'billing', key: 'customerId', ...answer });
    expect(agrees(result)).toBe(false);
  });

  it('without a tolerance, the rounding differences are mismatches too', () => {
    const { left, right, answer } = plantedDatasets(500, 4);
    const result = reconcile(left, right, { key: 'customerId' });
    const balances = result.mismatches.filter((m) => m.field === 'balanceCents');
    expect(balances).toHaveLength(6);
    expect(result.mismatches).toHaveLength(answer.mismatches.length + 6);
  });

  it('handles 100,000 records a side in linear time', () => {
    const { left, right, answer } = plantedDatasets(100_000, 5);
    const started = Date.now();
    const result = reconcile(left, right, { key: 'customerId', numericTolerance: 0.5 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.matched).toBe(answer.matched);
    expect(result.mismatches).toEqual(answer.mismatches);
  });
});

describe('reconcile', () => {
  it('agrees when both sides hold the same records in any order', () => {
    const records = [1, 2, 3].map(customer);
    const result = reconcile(records, [...records].reverse(), { key: 'customerId' });
    expect(result).toMatchObject({ matched: 3, leftName: 'left', rightName: 'right', mismatches: [] });
    expect(agrees(result)).toBe(true);
  });

  it('compares only the fields given, and says which side lacks one', () => {
    const left = [
      { id: 1, qty: 2, note: 'a' },
      { id: 2, qty: 1 },
    ];
    const right = [{ id: 1, qty: 2, note: 'b' }, { id: 2 }];
    expect(reconcile(left, right, { key: 'id', fields: ['qty'] }).mismatches).toEqual([
      { key: '2', field: 'qty', left: 1 },
    ]);
  });

  it('by default compares the leaves both records have, not those only one has', () => {
    const left = [{ id: 'a', qty: 2, warehouse: 'ams-1', items: [1, 2], meta: { v: 1 } }];
    const right = [{ id: 'a', qty: 2, email: 'x@example.com', items: [1, 3], meta: { v: 1 } }];
    expect(reconcile(left, right, { key: 'id' }).mismatches).toEqual([
      { key: 'a', field: 'items', left: [1, 2], right: [1, 3] },
    ]);
  });

  it('keys by a dotted path, and numbers and strings of the same text are the same key', () => {
    const left = [{ customer: { id: 42, name: 'Ana' } }];
    const right = [{ customer: { id: '42', name: 'Ana S.' } }];
    const result = reconcile(left, right, { key: 'customer.id' });
    expect(result.matched).toBe(1);
    expect(result.mismatches).toEqual([{ key: '42', field: 'customer.name', left: 'Ana', right: 'Ana S.' }]);
  });

  it('treats null as a value: null against a value is a mismatch', () => {
    const result = reconcile([{ id: 'a', sku: null }], [{ id: 'a', sku: 'SKU-1' }], { key: 'id' });
    expect(result.mismatches).toEqual([{ key: 'a', field: 'sku', left: null, right: 'SKU-1' }]);
  });

  it('refuses a negative tolerance', () => {
    expect(() => reconcile([], [], { key: 'id', numericTolerance: -1 })).toThrow('numericTolerance');
  });
});
