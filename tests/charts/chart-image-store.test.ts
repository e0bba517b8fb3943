import type { ChartBlock } from '../../bot/core/message';
import { ChartImageStore } from '../../adapters/charts/chart-image-store';

function chart(values: number[]): ChartBlock {
  return {
    type: 'chart',
    title: 'throughput of orders, last 15 minutes',
    points: values.map((v, i) => ({ t: 1_700_000_000 + i * 15, v })),
    summary: { min: `${Math.min(...values)}`, max: `${Math.max(...values)}`, latest: `${values.at(-1)}` },
  };
}

describe('chart image store', () => {
  it('gives the same chart the same unguessable id, and another chart another id', () => {
    const store = new ChartImageStore();
    const a = store.put(chart([1, 5, 3, 8]));
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(store.put(chart([1, 5, 3, 8]))).toBe(a);
    expect(store.put(chart([1, 5, 3, 9]))).not.toBe(a);
    // The key is per store: a second process cannot predict the first one's ids from the chart.
    expect(new ChartImageStore().put(chart([1, 5, 3, 8]))).not.toBe(a);
    expect(store.get(a)?.subarray(1, 4).toString()).toBe('PNG');
  });

  it('keeps the most recently used charts up to its capacity', () => {
    const store = new ChartImageStore(2);
    // A sparkline is drawn from the shape of its values, so these three are three different pictures.
    const first = store.put(chart([1, 2, 1]));
    const second = store.put(chart([3, 1, 2]));
    store.get(first);
    const third = store.put(chart([1, 1, 4]));
    expect(store.get(second)).toBeUndefined();
    expect(store.get(first)).toBeDefined();
    expect(store.get(third)).toBeDefined();
  });

  it('builds URLs under the public URL and refuses ids that are not its own shape', () => {
    const store = new ChartImageStore();
    const url = store.urlFor('https://ops.example.com/bot/', chart([4, 2, 6]));
    expect(url).toMatch(/^https:\/\/ops\.example\.com\/bot\/charts\/[A-Za-z0-9_-]{22}\.png$/);
    expect(store.get('../../etc/passwd')).toBeUndefined();
  });
});
