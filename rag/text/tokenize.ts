import { stemmer } from 'porter-stemmer';

/** Words that say nothing about which document answers: dropped before lexical matching. */
const STOP_WORDS = new Set(
  (
    'a an and are as at be been but by can could did do does doing for from had has have how i if in into is it its ' +
    'me my no not of on or our so than that the their them then there these they this to too us was we were what ' +
    'when where which while who why will with would you your am any all also just should shall may might must ' +
    'about above after again against before being below between both during each few further here more most once ' +
    'only other out over own same some such through under until up very off down'
  ).split(' '),
);

const WORD = /[\p{L}\p{N}]+/gu;
const CAMEL_BOUNDARY = /([a-z0-9])([A-Z])|([A-Z]+)([A-Z][a-z])/g;

/**
 * Lexical tokens for BM25: CamelCase and snake/dotted/dashed names split into words (so an alert name
 * "KubePodCrashLooping" and "pod crash looping" meet), lower-cased, stop words dropped, Porter-stemmed.
 * Numbers stay; single letters go.
 */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const spaced = text.replace(CAMEL_BOUNDARY, (_, a, b, c, d) => (a ? `${a} ${b}` : `${c} ${d}`));
  for (const match of spaced.matchAll(WORD)) {
    const word = match[0].toLowerCase();
    if (word.length < 2 || STOP_WORDS.has(word)) continue;
    tokens.push(stem(word));
  }
  return tokens;
}

const stemCache = new Map<string, string>();
/** Stemming is the tokenizer's hot spot at index time; vocabularies are small, so memoise it. */
function stem(word: string): string {
  let stemmed = stemCache.get(word);
  if (stemmed === undefined) {
    stemmed = /^\d/.test(word) ? word : stemmer(word);
    if (stemCache.size < 200_000) stemCache.set(word, stemmed);
  }
  return stemmed;
}
