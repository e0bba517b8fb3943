import { UseLiteEmbeddingProvider } from '../../rag/embeddings/use-lite-provider';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] as number), 0);

describe('Universal Sentence Encoder lite (the offline default)', () => {
  const provider = new UseLiteEmbeddingProvider();

  it('embeds offline into 512 unit-length dimensions', async () => {
    const [v] = await provider.embed(['disk almost full on node-3']);
    expect(v).toHaveLength(512);
    expect(dot(v!, v!)).toBeCloseTo(1, 5);
  });

  it('puts paraphrases closer together than unrelated text', async () => {
    const [a, b, c] = await provider.embed([
      'the payments service is returning errors',
      'card charges are failing with 500s',
      'schedule the quarterly team offsite',
    ]);
    expect(dot(a!, b!)).toBeGreaterThan(dot(a!, c!));
  });
});
