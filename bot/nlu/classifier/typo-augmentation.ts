import { seededRandom } from '../../core/seeded-random';

/**
 * Training-time augmentation: next to each utterance, a copy with one typo in one of its longer words (a
 * letter dropped, two swapped, or one doubled), the slips people make typing at 3am. The lexical features
 * then see "resart" and "paymnets" during training instead of only at run time. Seeded, so retraining on the
 * same data gives the same model.
 */
export const TYPO_SEED = 42;
/** Shorter words are mostly function words and ids, where a typo makes another word rather than a slip. */
const MIN_WORD_LENGTH = 4;
const EDITABLE_WORD = new RegExp(`^\\p{L}{${MIN_WORD_LENGTH},}$`, 'u');

export function withTypos<T extends { text: string }>(utterances: readonly T[], seed = TYPO_SEED): T[] {
  const random = seededRandom(seed);
  const copies: T[] = [];
  for (const utterance of utterances) {
    const text = misspell(utterance.text, random);
    // Swapping two equal letters ("good") changes nothing: such a copy would only count the line twice.
    if (text !== undefined && text !== utterance.text) copies.push({ ...utterance, text });
  }
  return [...utterances, ...copies];
}

function misspell(text: string, random: () => number): string | undefined {
  const words = text.split(' ');
  const editable = words.flatMap((word, i) => (EDITABLE_WORD.test(word) ? [i] : []));
  if (editable.length === 0) return undefined;
  const index = editable[Math.floor(random() * editable.length)] as number;
  const word = words[index] as string;
  // Never the first letter: people rarely get that wrong, and it is what the lexicon matchers anchor on.
  const at = 1 + Math.floor(random() * (word.length - 2));
  const edit = Math.floor(random() * 3);
  words[index] =
    edit === 0
      ? word.slice(0, at) + word.slice(at + 1)
      : edit === 1
        ? word.slice(0, at) + word.charAt(at + 1) + word.charAt(at) + word.slice(at + 2)
        : word.slice(0, at + 1) + word.slice(at);
  return words.join(' ');
}
