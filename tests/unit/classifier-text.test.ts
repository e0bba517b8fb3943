import { ServiceCatalog } from '../../bot/config/catalog';
import { delexicalise } from '../../bot/nlu/classifier/delexicalise';
import { TYPO_SEED, withTypos } from '../../bot/nlu/classifier/typo-augmentation';
import { RuleNlu } from '../../bot/nlu/rule-nlu';
import { testConfig } from '../support/runtime';

const rules = new RuleNlu(new ServiceCatalog(testConfig()), {
  runbookIds: ['service-down'],
  alertNames: ['CheckoutLatencyHigh', 'ServiceDown'],
});
const read = (text: string) => delexicalise(text, rules.parse(text).entities);

describe('delexicalise: what the intent classifier reads', () => {
  it('replaces each entity with the word for its kind', () => {
    expect(read('restart paymnets in prod')).toBe('restart service in environment');
    expect(read('is CheckoutLatencyHigh still going off')).toBe('is alert still going off');
    expect(read('stop ServiceDown paging me for 30m')).toBe('stop alert paging me for an hour');
    expect(read('is the refund for ord-66310 still running')).toBe('is the refund for order still running');
    expect(read('show order.created events for cus_9KQ2')).toBe('show events events for customer');
    expect(read('what happened to saga-0042')).toBe('what happened to saga');
  });

  it('keeps time ranges as written, and leaves text without entities alone', () => {
    expect(read('will we cope tomorrow 9am')).toBe('will we cope tomorrow 9am');
    expect(read('hello there')).toBe('hello there');
  });

  it('keeps the text around and between entities exactly, emoji included', () => {
    expect(read('🔥 bounce search, then billing!')).toBe('🔥 bounce service, then service!');
  });
});

describe('typo augmentation', () => {
  const data = [
    { text: 'restart the payments service', intent: 'restart_service' },
    { text: 'hi', intent: 'greeting' },
    { text: 'what is firing right now', intent: 'alert_status' },
  ];

  it('adds one misspelt copy per utterance that has a long enough word, keeping the label', () => {
    const augmented = withTypos(data);
    expect(augmented.slice(0, 3)).toEqual(data);
    expect(augmented).toHaveLength(5);
    const copies = augmented.slice(3);
    expect(copies.map((c) => c.intent)).toEqual(['restart_service', 'alert_status']);
    copies.forEach((copy, i) => {
      const original = [data[0], data[2]][i]?.text as string;
      expect(copy.text).not.toBe(original);
      // One edit in one word: the other words are untouched and the length moves by at most one.
      const diff = copy.text.split(' ').filter((w, j) => w !== original.split(' ')[j]);
      expect(diff).toHaveLength(1);
      expect(Math.abs(copy.text.length - original.length)).toBeLessThanOrEqual(1);
    });
  });

  it('is deterministic for a seed, and another seed gives other typos', () => {
    expect(withTypos(data, TYPO_SEED)).toEqual(withTypos(data, TYPO_SEED));
    const many = Array.from({ length: 20 }, (_, i) => ({ text: `please restart inventory ${i}` }));
    expect(withTypos(many, 1)).not.toEqual(withTypos(many, 2));
  });
});
