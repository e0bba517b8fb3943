import { LruMap } from '../../bot/core/lru-map';

describe('LruMap', () => {
  it('forgets the least recently used entry when full; a read counts as a use', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    expect(map.get('a')).toBe(1); // b is now the least recently used
    map.set('c', 3);
    expect(map.get('b')).toBeUndefined();
    expect([map.get('a'), map.get('c'), map.size]).toEqual([1, 3, 2]);
  });

  it('replaces a value in place without growing, and clears', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1);
    map.set('a', 2);
    expect([map.get('a'), map.size]).toEqual([2, 1]);
    map.clear();
    expect(map.size).toBe(0);
  });

  it('keeps exactly the most recently used entries through a long run of reads and writes', () => {
    // Checked against a plain list kept in use order, over enough operations to evict many times over.
    const map = new LruMap<number, number>(5);
    let order: number[] = [];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) % 12;
    for (let i = 0; i < 5000; i++) {
      const key = next();
      if (i % 3 === 0) {
        const expected = order.includes(key) ? key : undefined;
        expect(map.get(key)).toBe(expected);
        if (expected !== undefined) order = [...order.filter((k) => k !== key), key];
      } else {
        map.set(key, key);
        order = [...order.filter((k) => k !== key), key].slice(-5);
      }
      expect(map.size).toBe(order.length);
    }
    for (const key of order) expect(map.get(key)).toBe(key);
    map.clear();
    for (let key = 1; key <= 7; key++) map.set(key, key);
    expect([map.size, map.get(2), map.get(3), map.get(7)]).toEqual([5, undefined, 3, 7]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new LruMap(0)).toThrow(RangeError);
    expect(() => new LruMap(1.5)).toThrow(RangeError);
  });
});
