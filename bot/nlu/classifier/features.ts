import type { EmbeddingProvider } from '../../../rag/embeddings/embedding-provider';
import type { Entity } from '../intents';
import { delexicalise } from './delexicalise';

/**
 * What the intent classifier sees of an utterance: its sentence embedding, followed by hashed lexical
 * features (words, word pairs, character 3- and 4-grams). The embedding carries meaning ("bounce" ≈ restart);
 * the lexical part carries the exact words and typos an embedding smooths over ("shrink", "paymnets").
 * On the held-out split the lexical part took the classifier from 0.86 to 0.92 accuracy; 4,096 buckets with
 * character 4-grams scored best in 5-fold cross-validation on the training split.
 */
export const LEXICAL_DIMENSIONS = 4096;

/**
 * Feature rows for utterances as the classifier reads them, delexicalised (see delexicalise.ts): one batch
 * through the sentence encoder, then the lexical features of the same text. Training and serving both come
 * through here, so the model never sees features built differently from the ones it was trained on.
 */
export function embedFeatureRows(
  embeddings: EmbeddingProvider,
  utterances: readonly { text: string; entities: readonly Entity[] }[],
): Promise<Float32Array[]> {
  return embedReadFeatureRows(
    embeddings,
    utterances.map((u) => delexicalise(u.text, u.entities)),
  );
}

/** The same, for texts already delexicalised (the serving classifier keys its memory by them). */
export async function embedReadFeatureRows(
  embeddings: EmbeddingProvider,
  reads: readonly string[],
): Promise<Float32Array[]> {
  const embedded = await embeddings.embed(reads);
  return embedded.map((embedding, i) => featureRow(embedding, reads[i] as string));
}

const WORD = /[\p{L}\p{N}]+/gu;

/** The feature names in column order, recorded in the model card so a model and its features never drift. */
export function featureNames(embeddingId: string, embeddingDimensions: number): string[] {
  return [
    ...Array.from({ length: embeddingDimensions }, (_, i) => `${embeddingId}[${i}]`),
    ...Array.from({ length: LEXICAL_DIMENSIONS }, (_, i) => `lexical[${i}]`),
  ];
}

/** One feature row: the embedding as given, then the L2-normalised lexical counts. */
function featureRow(embedding: Float32Array, text: string): Float32Array {
  const row = new Float32Array(embedding.length + LEXICAL_DIMENSIONS);
  row.set(embedding);
  const offset = embedding.length;
  const words = text.toLowerCase().normalize('NFKC').match(WORD) ?? [];
  const add = (token: string) => {
    const at = offset + (fnv1a(token) % LEXICAL_DIMENSIONS);
    row[at] = (row[at] as number) + 1;
  };
  words.forEach((word, i) => {
    add(`w:${word}`);
    if (i > 0) add(`b:${words[i - 1]} ${word}`);
    const padded = `#${word}#`;
    for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`);
    for (let j = 0; j + 4 <= padded.length; j++) add(`d:${padded.slice(j, j + 4)}`);
  });
  let norm = 0;
  for (let i = offset; i < row.length; i++) norm += (row[i] as number) ** 2;
  if (norm > 0) {
    const scale = 1 / Math.sqrt(norm);
    for (let i = offset; i < row.length; i++) row[i] = (row[i] as number) * scale;
  }
  return row;
}

/** 32-bit FNV-1a over UTF-16 code units: fast, stable across runs and platforms, good enough spread. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
