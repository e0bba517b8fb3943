import { randomUUID } from 'node:crypto';
import { LruMap } from '../../bot/core/lru-map';
import { seededRandom } from '../../bot/core/seeded-random';
import {
  conflict,
  invalid,
  notFound,
  optionalText,
  requireObject,
  requirePositiveInteger,
  requireText,
} from './domain-validation';
import { PRODUCTS } from './product-catalog';
import type { RouteDefinition } from './route-matching';
import type { ServiceName } from './service-names';

export interface DomainRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body of a POST, undefined when it had none. */
  body: unknown;
}

/** The body is serialised as soon as the handler returns, so later changes to a record do not alter it. */
export interface DomainResponse {
  status: number;
  body: unknown;
}

export interface DomainRoute extends RouteDefinition {
  method: 'GET' | 'POST';
  /** Synchronous on purpose: a request's check-then-change happens in one turn of the event loop. */
  handle(request: DomainRequest): DomainResponse;
}

/**
 * Records each store keeps. The load generator creates records for as long as the demo runs; past this the
 * oldest are forgotten (a later lookup of one is a 404) instead of the process growing without bound.
 */
const MAX_RECORDS = 100_000;
/** Stock per product at start-up: a day of demo load takes a small share, a test can still run out. */
const INITIAL_STOCK = 100_000;
const MAX_QUANTITY = 1000;
const MAX_ORDER_ITEMS = 50;
/** A million in the currency's major unit: the largest charge a demo shop takes. */
const MAX_AMOUNT_CENTS = 100_000_000;
const MAX_SEARCH_RESULTS = 20;
const MAX_QUERY_LENGTH = 200;
const MAX_EMAIL_LENGTH = 254;
const CATALOG_PAGE_SIZE = 10;
const MAX_CART_LINES = 4;
const MAX_CART_QUANTITY = 3;

const CURRENCY = /^[A-Za-z]{3}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

const ok = (body: unknown): DomainResponse => ({ status: 200, body });
const created = (body: unknown): DomainResponse => ({ status: 201, body });

/** Looks a record up by its id (the route's `:id` or a body field), or answers 404. */
function find<V>(store: LruMap<string, V>, what: string, id = ''): V {
  const record = store.get(id);
  if (!record) throw notFound(what, id);
  return record;
}

/** Moves a record to its final status; asking a second time is a 409 `already_<status>`. */
function setFinalStatus<S extends string>(record: { status: S }, what: string, id: string, status: S): void {
  if (record.status === status) throw conflict(`already_${status}`, `${what} ${id} is already ${status}`);
  record.status = status;
}

interface Reservation {
  reservationId: string;
  orderId: string;
  sku: string;
  quantity: number;
  status: 'reserved' | 'released';
}

function inventoryRoutes(): DomainRoute[] {
  const stock = new Map(PRODUCTS.map((p) => [p.sku, { available: INITIAL_STOCK, reserved: 0 }]));
  const reservations = new LruMap<string, Reservation>(MAX_RECORDS);
  const level = (sku: string) => {
    const found = stock.get(sku);
    if (!found) throw notFound('sku', sku);
    return found;
  };
  return [
    {
      method: 'POST',
      template: '/inventory/reserve',
      handle({ body }) {
        const input = requireObject(body);
        const orderId = requireText(input, 'orderId');
        const sku = requireText(input, 'sku');
        const quantity = requirePositiveInteger(input, 'quantity', MAX_QUANTITY);
        const current = level(sku);
        if (current.available < quantity) {
          throw conflict('insufficient_stock', `only ${current.available} of ${sku} available`);
        }
        current.available -= quantity;
        current.reserved += quantity;
        const reservation: Reservation = {
          reservationId: newId('res'),
          orderId,
          sku,
          quantity,
          status: 'reserved',
        };
        reservations.set(reservation.reservationId, reservation);
        return created({ reservationId: reservation.reservationId, orderId, sku, quantity });
      },
    },
    {
      method: 'POST',
      template: '/inventory/release',
      handle({ body }) {
        const reservationId = requireText(requireObject(body), 'reservationId');
        const reservation = find(reservations, 'reservation', reservationId);
        const current = level(reservation.sku);
        setFinalStatus(reservation, 'reservation', reservationId, 'released');
        current.available += reservation.quantity;
        current.reserved -= reservation.quantity;
        return ok({ reservationId, status: 'released' });
      },
    },
    {
      method: 'GET',
      template: '/inventory/stock/:sku',
      handle({ params }) {
        const sku = params.sku ?? '';
        return ok({ sku, ...level(sku) });
      },
    },
  ];
}

interface Payment {
  paymentId: string;
  orderId: string;
  amountCents: number;
  currency: string;
  status: 'captured' | 'refunded';
}

function paymentRoutes(): DomainRoute[] {
  const payments = new LruMap<string, Payment>(MAX_RECORDS);
  return [
    {
      method: 'POST',
      template: '/payments/charge',
      handle({ body }) {
        const input = requireObject(body);
        const orderId = requireText(input, 'orderId');
        const amountCents = requirePositiveInteger(input, 'amountCents', MAX_AMOUNT_CENTS);
        if (typeof input.currency !== 'string' || !CURRENCY.test(input.currency)) {
          throw invalid('currency must be a three-letter code such as EUR');
        }
        const payment: Payment = {
          paymentId: newId('pay'),
          orderId,
          amountCents,
          currency: input.currency.toUpperCase(),
          status: 'captured',
        };
        payments.set(payment.paymentId, payment);
        return created(payment);
      },
    },
    {
      method: 'POST',
      template: '/payments/refund',
      handle({ body }) {
        const paymentId = requireText(requireObject(body), 'paymentId');
        setFinalStatus(find(payments, 'payment', paymentId), 'payment', paymentId, 'refunded');
        return ok({ paymentId, status: 'refunded' });
      },
    },
    {
      method: 'GET',
      template: '/payments/:id',
      handle: ({ params }) => ok(find(payments, 'payment', params.id)),
    },
  ];
}

interface Order {
  orderId: string;
  customerId: string;
  items: { sku: string; quantity: number }[];
  status: 'created' | 'cancelled';
  createdAt: string;
}

function orderRoutes(): DomainRoute[] {
  const orders = new LruMap<string, Order>(MAX_RECORDS);
  return [
    {
      method: 'POST',
      template: '/orders',
      handle({ body }) {
        const input = requireObject(body);
        const customerId = requireText(input, 'customerId');
        const items = input.items;
        if (!Array.isArray(items) || items.length === 0 || items.length > MAX_ORDER_ITEMS) {
          throw invalid(`items must be a list of 1 to ${MAX_ORDER_ITEMS} items`);
        }
        const order: Order = {
          orderId: newId('ord'),
          customerId,
          items: items.map((item: unknown) => {
            const line = requireObject(item, 'each item');
            return {
              sku: requireText(line, 'sku'),
              quantity: requirePositiveInteger(line, 'quantity', MAX_QUANTITY),
            };
          }),
          status: 'created',
          createdAt: new Date().toISOString(),
        };
        orders.set(order.orderId, order);
        return created(order);
      },
    },
    {
      method: 'POST',
      template: '/orders/:id/cancel',
      handle({ params }) {
        const order = find(orders, 'order', params.id);
        setFinalStatus(order, 'order', order.orderId, 'cancelled');
        return ok({ orderId: order.orderId, status: 'cancelled' });
      },
    },
    {
      method: 'GET',
      template: '/orders/:id',
      handle: ({ params }) => ok(find(orders, 'order', params.id)),
    },
  ];
}

function notificationRoutes(): DomainRoute[] {
  return [
    {
      method: 'POST',
      template: '/notifications/send',
      handle({ body }) {
        const input = requireObject(body);
        requireText(input, 'to');
        requireText(input, 'template');
        if (input.data !== undefined) requireObject(input.data, 'data');
        // Nothing is delivered, so nothing is kept: the id is all a caller can ask about.
        return { status: 202, body: { notificationId: newId('ntf'), status: 'queued' } };
      },
    },
  ];
}

interface Shipment {
  shipmentId: string;
  orderId: string;
  address?: string;
  status: 'shipped' | 'cancelled';
}

/** A stable number for a string (FNV-1a), so the same cart id shows the same cart on every replica. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

function checkoutRoutes(): DomainRoute[] {
  const shipments = new LruMap<string, Shipment>(MAX_RECORDS);
  return [
    {
      method: 'POST',
      template: '/checkout/ship',
      handle({ body }) {
        const input = requireObject(body);
        const orderId = requireText(input, 'orderId');
        const address = optionalText(input, 'address');
        const shipment: Shipment = {
          shipmentId: newId('shp'),
          orderId,
          ...(address !== undefined ? { address } : {}),
          status: 'shipped',
        };
        shipments.set(shipment.shipmentId, shipment);
        return created(shipment);
      },
    },
    {
      method: 'POST',
      template: '/checkout/ship/:id/cancel',
      handle({ params }) {
        const shipment = find(shipments, 'shipment', params.id);
        setFinalStatus(shipment, 'shipment', shipment.shipmentId, 'cancelled');
        return ok({ shipmentId: shipment.shipmentId, orderId: shipment.orderId, status: 'cancelled' });
      },
    },
    {
      method: 'GET',
      template: '/checkout/cart/:id',
      handle({ params }) {
        // Carts live in the shoppers' browsers in this demo; the service derives one from the id instead.
        const cartId = params.id ?? '';
        const random = seededRandom(hashText(cartId));
        const lines = Array.from({ length: 1 + Math.floor(random() * MAX_CART_LINES) }, () => {
          const product = PRODUCTS[Math.floor(random() * PRODUCTS.length)]!;
          const quantity = 1 + Math.floor(random() * MAX_CART_QUANTITY);
          return { sku: product.sku, name: product.name, quantity, priceCents: product.priceCents };
        });
        const totalCents = lines.reduce((sum, line) => sum + line.quantity * line.priceCents, 0);
        return ok({ cartId, items: lines, totalCents });
      },
    },
  ];
}

interface User {
  userId: string;
  email: string;
  name: string;
  status: 'active' | 'deactivated';
}

function userRoutes(): DomainRoute[] {
  const users = new LruMap<string, User>(MAX_RECORDS);
  return [
    {
      method: 'POST',
      template: '/users',
      handle({ body }) {
        const input = requireObject(body);
        const email = requireText(input, 'email', MAX_EMAIL_LENGTH);
        if (!EMAIL.test(email)) throw invalid('email must be an e-mail address');
        const user: User = {
          userId: newId('usr'),
          email,
          name: requireText(input, 'name'),
          status: 'active',
        };
        users.set(user.userId, user);
        return created(user);
      },
    },
    {
      method: 'GET',
      template: '/users/:id',
      handle: ({ params }) => ok(find(users, 'user', params.id)),
    },
    {
      method: 'POST',
      template: '/users/:id/deactivate',
      handle({ params }) {
        const user = find(users, 'user', params.id);
        setFinalStatus(user, 'user', user.userId, 'deactivated');
        return ok({ userId: user.userId, status: 'deactivated' });
      },
    },
  ];
}

/** What a search matches against, lower-cased once rather than for every product on every request. */
const SEARCHABLE = PRODUCTS.map((product) => ({
  product,
  text: `${product.sku} ${product.name}`.toLowerCase(),
}));

function searchRoutes(): DomainRoute[] {
  return [
    {
      method: 'GET',
      template: '/search',
      handle({ query }) {
        const q = query.get('q')?.trim() ?? '';
        if (q === '' || q.length > MAX_QUERY_LENGTH) {
          throw invalid(`q must be a search text of 1 to ${MAX_QUERY_LENGTH} characters`);
        }
        const terms = q.toLowerCase().split(/\s+/);
        const results = SEARCHABLE.filter(({ text }) => terms.every((term) => text.includes(term)))
          .slice(0, MAX_SEARCH_RESULTS)
          .map(({ product }) => product);
        return ok({ query: q, results });
      },
    },
  ];
}

function gatewayRoutes(): DomainRoute[] {
  return [
    { method: 'GET', template: '/api/ping', handle: () => ok({ pong: true }) },
    {
      method: 'GET',
      template: '/api/catalog',
      handle: () => ok({ products: PRODUCTS.slice(0, CATALOG_PAGE_SIZE) }),
    },
  ];
}

const DOMAINS: Record<ServiceName, () => DomainRoute[]> = {
  payments: paymentRoutes,
  orders: orderRoutes,
  inventory: inventoryRoutes,
  checkout: checkoutRoutes,
  notifications: notificationRoutes,
  users: userRoutes,
  search: searchRoutes,
  gateway: gatewayRoutes,
};

/** A fresh set of the service's domain routes with empty state (inventory starts with its seed stock). */
export function createDomainRoutes(service: ServiceName): DomainRoute[] {
  return DOMAINS[service]();
}
