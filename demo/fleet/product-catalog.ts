/** The fleet's one product list: inventory seeds its stock from it, search filters it, the gateway lists it. */
export interface Product {
  sku: string;
  name: string;
  priceCents: number;
}

const PRODUCT_COUNT = 50;

const ADJECTIVES = ['Classic', 'Compact', 'Deluxe', 'Rugged', 'Wireless'] as const;
const NOUNS = [
  'Backpack',
  'Headphones',
  'Kettle',
  'Lamp',
  'Mug',
  'Notebook',
  'Speaker',
  'Tent',
  'Umbrella',
  'Watch',
];

export const PRODUCTS: readonly Product[] = Array.from({ length: PRODUCT_COUNT }, (_, i) => ({
  sku: `sku-${i + 1}`,
  name: `${ADJECTIVES[i % ADJECTIVES.length]} ${NOUNS[Math.floor(i / ADJECTIVES.length) % NOUNS.length]}`,
  // Varied but stable prices, so a search result or a cart total is the same on every replica.
  priceCents: 499 + ((i * 1373) % 20_000),
}));
