import { isRecord } from '../../adapters/is-record';
import { PRODUCTS } from './product-catalog';
import type { ServiceName } from './service-names';

/** One request the load generator is about to send. */
export interface PlannedRequest {
  service: ServiceName;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** Keeps the id a successful create returned, so later reads, cancels and refunds have something to name. */
  remember?: (responseBody: unknown) => void;
}

type IdKind = 'order' | 'reservation' | 'payment' | 'shipment' | 'user';

/** Ids kept per kind: enough variety for reads, few enough that reads mostly find live records. */
const RECENT_IDS_PER_KIND = 200;
const MAX_ITEMS_PER_ORDER = 3;
const MAX_QUANTITY = 3;
const MIN_AMOUNT_CENTS = 500;
const MAX_AMOUNT_CENTS = 50_000;
const CUSTOMERS = 1000;
const CURRENCIES = ['EUR', 'USD', 'GBP'] as const;
const TEMPLATES = ['order-confirmation', 'shipping-update', 'password-reset'] as const;
/** Words shoppers type: product words, which find something, and a few that find nothing. */
const SEARCH_TERMS = [...new Set(PRODUCTS.flatMap((p) => p.name.toLowerCase().split(' '))), 'gift', 'sale'];

/** Ids from recent successful creates, by kind. */
class RecentIds {
  private readonly ids = new Map<IdKind, string[]>();

  add(kind: IdKind, id: unknown): void {
    if (typeof id !== 'string') return;
    const list = this.ids.get(kind) ?? [];
    list.push(id);
    if (list.length > RECENT_IDS_PER_KIND) list.shift();
    this.ids.set(kind, list);
  }

  pick(kind: IdKind, random: () => number): string | undefined {
    const list = this.ids.get(kind) ?? [];
    return list[Math.floor(random() * list.length)];
  }

  /** Picks and forgets: cancelling or refunding the same record twice would only earn a 409. */
  take(kind: IdKind, random: () => number): string | undefined {
    const list = this.ids.get(kind) ?? [];
    return list.splice(Math.floor(random() * list.length), 1)[0];
  }
}

interface MixContext {
  random: () => number;
  ids: RecentIds;
  /** A running number for made-up customer ids, e-mail addresses, … */
  n: number;
}

interface MixEntry {
  service: ServiceName;
  /** Relative share of all requests. */
  weight: number;
  plan(context: MixContext): PlannedRequest;
}

const between = (random: () => number, min: number, max: number) =>
  min + Math.floor(random() * (max - min + 1));
const anyOf = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const anySku = (random: () => number) => anyOf(random, PRODUCTS).sku;
/** An order to charge, reserve for or ship: a real one when orders has created some. */
const anyOrderId = ({ random, ids, n }: MixContext) => ids.pick('order', random) ?? `ord_load${n}`;

function create(
  { ids }: MixContext,
  service: ServiceName,
  path: string,
  body: unknown,
  kind: IdKind,
  idField: string,
): PlannedRequest {
  return {
    service,
    method: 'POST',
    path,
    body,
    remember: (reply) => {
      if (isRecord(reply)) ids.add(kind, reply[idField]);
    },
  };
}

const segment = encodeURIComponent;
const get = (service: ServiceName, path: string): PlannedRequest => ({ service, method: 'GET', path });
const post = (service: ServiceName, path: string, body?: unknown): PlannedRequest => ({
  service,
  method: 'POST',
  path,
  body,
});

const createOrder = (c: MixContext) =>
  create(
    c,
    'orders',
    '/orders',
    {
      customerId: `cust-${c.n % CUSTOMERS}`,
      items: Array.from({ length: between(c.random, 1, MAX_ITEMS_PER_ORDER) }, () => ({
        sku: anySku(c.random),
        quantity: between(c.random, 1, MAX_QUANTITY),
      })),
    },
    'order',
    'orderId',
  );
const reserve = (c: MixContext) =>
  create(
    c,
    'inventory',
    '/inventory/reserve',
    { orderId: anyOrderId(c), sku: anySku(c.random), quantity: between(c.random, 1, MAX_QUANTITY) },
    'reservation',
    'reservationId',
  );
const charge = (c: MixContext) =>
  create(
    c,
    'payments',
    '/payments/charge',
    {
      orderId: anyOrderId(c),
      amountCents: between(c.random, MIN_AMOUNT_CENTS, MAX_AMOUNT_CENTS),
      currency: anyOf(c.random, CURRENCIES),
    },
    'payment',
    'paymentId',
  );
const ship = (c: MixContext) =>
  create(
    c,
    'checkout',
    '/checkout/ship',
    { orderId: anyOrderId(c), address: `${c.n % 500} Demo Street` },
    'shipment',
    'shipmentId',
  );
const createUser = (c: MixContext) =>
  create(
    c,
    'users',
    '/users',
    { email: `user${c.n}@example.com`, name: `Demo User ${c.n}` },
    'user',
    'userId',
  );

/** A request about an existing record, or its create while none is known yet. */
const about =
  (
    kind: IdKind,
    fallback: (c: MixContext) => PlannedRequest,
    once: boolean,
    request: (id: string) => PlannedRequest,
  ) =>
  (c: MixContext): PlannedRequest => {
    const id = once ? c.ids.take(kind, c.random) : c.ids.pick(kind, c.random);
    return id === undefined ? fallback(c) : request(id);
  };

/**
 * A shop's traffic: browsing (gateway, search, carts) far outweighs buying, and undoing (cancels, refunds,
 * releases) is rarer still.
 */
const MIX: readonly MixEntry[] = [
  { service: 'gateway', weight: 12, plan: () => get('gateway', '/api/ping') },
  { service: 'gateway', weight: 10, plan: () => get('gateway', '/api/catalog') },
  {
    service: 'search',
    weight: 20,
    plan: ({ random }) => get('search', `/search?q=${encodeURIComponent(anyOf(random, SEARCH_TERMS))}`),
  },
  { service: 'orders', weight: 7, plan: createOrder },
  {
    service: 'orders',
    weight: 4,
    plan: about('order', createOrder, false, (id) => get('orders', `/orders/${segment(id)}`)),
  },
  {
    service: 'orders',
    weight: 1,
    plan: about('order', createOrder, true, (id) => post('orders', `/orders/${segment(id)}/cancel`)),
  },
  { service: 'inventory', weight: 7, plan: reserve },
  {
    service: 'inventory',
    weight: 4,
    plan: ({ random }) => get('inventory', `/inventory/stock/${anySku(random)}`),
  },
  {
    service: 'inventory',
    weight: 2,
    plan: about('reservation', reserve, true, (id) =>
      post('inventory', '/inventory/release', { reservationId: id }),
    ),
  },
  { service: 'payments', weight: 6, plan: charge },
  {
    service: 'payments',
    weight: 2,
    plan: about('payment', charge, false, (id) => get('payments', `/payments/${segment(id)}`)),
  },
  {
    service: 'payments',
    weight: 1,
    plan: about('payment', charge, true, (id) => post('payments', '/payments/refund', { paymentId: id })),
  },
  { service: 'checkout', weight: 4, plan: ship },
  {
    service: 'checkout',
    weight: 4,
    plan: ({ n }) => get('checkout', `/checkout/cart/cart-${n % CUSTOMERS}`),
  },
  {
    service: 'checkout',
    weight: 1,
    plan: about('shipment', ship, true, (id) => post('checkout', `/checkout/ship/${segment(id)}/cancel`)),
  },
  {
    service: 'notifications',
    weight: 6,
    plan: ({ random, n }) =>
      post('notifications', '/notifications/send', {
        to: `user${n % CUSTOMERS}@example.com`,
        template: anyOf(random, TEMPLATES),
        data: { n },
      }),
  },
  { service: 'users', weight: 2, plan: createUser },
  {
    service: 'users',
    weight: 3,
    plan: about('user', createUser, false, (id) => get('users', `/users/${segment(id)}`)),
  },
  {
    service: 'users',
    weight: 1,
    plan: about('user', createUser, true, (id) => post('users', `/users/${segment(id)}/deactivate`)),
  },
];

/** Picks requests at random with the shop's weights, among the services that have a target. */
export class RequestMix {
  private readonly entries: readonly MixEntry[];
  private readonly totalWeight: number;
  private readonly ids = new RecentIds();
  private n = 0;

  constructor(
    services: readonly ServiceName[],
    private readonly random: () => number,
  ) {
    this.entries = MIX.filter((entry) => services.includes(entry.service));
    this.totalWeight = this.entries.reduce((sum, entry) => sum + entry.weight, 0);
    if (this.entries.length === 0) throw new RangeError('the request mix needs at least one service');
  }

  next(): PlannedRequest {
    this.n += 1;
    let point = this.random() * this.totalWeight;
    const entry = this.entries.find((e) => (point -= e.weight) < 0) ?? this.entries[this.entries.length - 1]!;
    return entry.plan({ random: this.random, ids: this.ids, n: this.n });
  }
}
