import { setTimeout as delay } from 'node:timers/promises';
import { SHUTDOWN_GRACE_MS } from '../../demo/fleet/demo-service';
import { DURATION_BUCKETS } from '../../demo/fleet/service-metrics';
import { postJson, sample, serviceFixture } from './fleet-helpers';

describe('demo service', () => {
  const start = serviceFixture();

  it('reports health, info and its replica', async () => {
    const { url } = await start('payments', { replica: 'payments-7' });
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      status: 'ok',
      service: 'payments',
      replica: 'payments-7',
      pid: process.pid,
      uptimeSeconds: expect.any(Number),
    });
    const info = await (await fetch(`${url}/admin/info`)).json();
    expect(info).toMatchObject({ service: 'payments', replica: 'payments-7', pid: process.pid, fault: null });
    expect(Number.isNaN(Date.parse(info.startedAt))).toBe(false);
  });

  it('refuses to start as a service the fleet does not have', async () => {
    await expect(start('billing')).rejects.toThrow(/unknown service "billing"/);
  });

  describe('metrics', () => {
    it('counts domain requests by route template, never by raw path', async () => {
      const { url } = await start('orders');
      const created = await postJson(`${url}/orders`, {
        customerId: 'c-1',
        items: [{ sku: 'sku-1', quantity: 1 }],
      });
      expect(created.status).toBe(201);
      const { orderId } = await created.json();
      expect((await fetch(`${url}/orders/${orderId}`)).status).toBe(200);
      for (const id of ['missing-1', 'missing-2', 'missing-3']) {
        expect((await fetch(`${url}/orders/${id}`)).status).toBe(404);
      }
      expect((await fetch(`${url}/no/such/path`)).status).toBe(404);
      await fetch(`${url}/health`);
      await fetch(`${url}/admin/info`);

      const response = await fetch(`${url}/metrics`);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await response.text();
      const count = (route: string, method: string, code: string) =>
        sample(text, 'http_requests_total', { service: 'orders', route, method, code });
      expect(count('/orders', 'POST', '201')).toBe(1);
      expect(count('/orders/:id', 'GET', '200')).toBe(1);
      expect(count('/orders/:id', 'GET', '404')).toBe(3);
      expect(count('unmatched', 'GET', '404')).toBe(1);
      expect(text).not.toContain('missing-1');
      expect(text).not.toContain(orderId);
      expect(text).not.toMatch(/route="\/(health|metrics|admin)/);

      for (const le of DURATION_BUCKETS) {
        expect(
          sample(text, 'http_request_duration_seconds_bucket', {
            service: 'orders',
            route: '/orders/:id',
            le: String(le),
          }),
        ).toBeDefined();
      }
      expect(
        sample(text, 'http_request_duration_seconds_count', { service: 'orders', route: '/orders/:id' }),
      ).toBe(4);
      const cpu = sample(text, 'demo_cpu_utilisation', { service: 'orders' });
      expect(cpu).toBeGreaterThanOrEqual(0);
      expect(cpu).toBeLessThanOrEqual(1);
      expect(
        sample(text, 'demo_replica_info', {
          service: 'orders',
          replica: 'orders-1',
          pid: String(process.pid),
        }),
      ).toBe(1);
    });

    it('keeps each instance on a registry of its own', async () => {
      const a = await start('gateway', { replica: 'gateway-1' });
      const b = await start('gateway', { replica: 'gateway-2' });
      await fetch(`${a.url}/api/ping`);
      await fetch(`${a.url}/api/ping`);
      const labels = { service: 'gateway', route: '/api/ping', method: 'GET', code: '200' };
      expect(sample(await (await fetch(`${a.url}/metrics`)).text(), 'http_requests_total', labels)).toBe(2);
      expect(
        sample(await (await fetch(`${b.url}/metrics`)).text(), 'http_requests_total', labels),
      ).toBeUndefined();
    });

    it('answers a wrong method with 405 and counts it under the route', async () => {
      const { url } = await start('orders');
      const response = await fetch(`${url}/orders/o-1/cancel`);
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(
        sample(text, 'http_requests_total', { route: '/orders/:id/cancel', method: 'GET', code: '405' }),
      ).toBe(1);
    });
  });

  describe('faults', () => {
    it('fails every domain request and degrades health with an errors fault at rate 1, until cleared', async () => {
      const { url } = await start('gateway');
      const injected = await postJson(`${url}/admin/fault`, { kind: 'errors', duration: 30 });
      expect(injected.status).toBe(202);
      const { accepted, fault } = await injected.json();
      expect(accepted).toBe(true);
      expect(fault).toMatchObject({ kind: 'errors', rate: 1 });
      expect(Date.parse(fault.until) - Date.parse(fault.startedAt)).toBe(30_000);

      for (let i = 0; i < 5; i += 1) {
        const response = await fetch(`${url}/api/ping`);
        expect(response.status).toBe(500);
        expect(await response.json()).toEqual({ error: 'injected fault' });
      }
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(503);
      expect((await health.json()).status).toBe('degraded');
      expect((await (await fetch(`${url}/admin/info`)).json()).fault).toMatchObject({ kind: 'errors' });
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(sample(text, 'http_requests_total', { route: '/api/ping', code: '500' })).toBe(5);

      expect((await fetch(`${url}/admin/fault`, { method: 'DELETE' })).status).toBe(200);
      expect((await fetch(`${url}/api/ping`)).status).toBe(200);
      expect((await fetch(`${url}/health`)).status).toBe(200);
    });

    it('fails only some requests at a partial rate, and stays healthy below half', async () => {
      const { url } = await start('gateway', { capacityRps: 10_000 });
      await postJson(`${url}/admin/fault`, { kind: 'errors', rate: 0.3 });
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const statuses = [];
      for (let i = 0; i < 60; i += 1) statuses.push((await fetch(`${url}/api/ping`)).status);
      // 60 draws at 0.3: all-or-nothing has a chance below 1e-9.
      expect(statuses).toContain(500);
      expect(statuses).toContain(200);
    });

    it('delays domain requests with a latency fault, and the histogram shows it', async () => {
      const { url } = await start('search');
      await postJson(`${url}/admin/fault`, { kind: 'latency', latencyMs: 400 });
      const began = Date.now();
      const response = await fetch(`${url}/search?q=lamp`);
      expect(response.status).toBe(200);
      expect(Date.now() - began).toBeGreaterThanOrEqual(390);
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(sample(text, 'http_request_duration_seconds_bucket', { route: '/search', le: '0.25' })).toBe(0);
      expect(sample(text, 'http_request_duration_seconds_count', { route: '/search' })).toBe(1);
    });

    it('leaves every request unanswered during a hang, then answers again', async () => {
      const { url } = await start('users');
      // Long enough that the three 300 ms probes all fall inside it on a slow, busy machine.
      const injected = await postJson(`${url}/admin/fault`, { kind: 'hang', duration: 3 });
      expect(injected.status).toBe(202);
      const { until } = (await injected.json()).fault;
      await expect(fetch(`${url}/health`, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
      await expect(fetch(`${url}/users/u-1`, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
      await expect(
        fetch(`${url}/admin/fault`, { method: 'DELETE', signal: AbortSignal.timeout(300) }),
      ).rejects.toThrow();
      await delay(Math.max(0, Date.parse(until) - Date.now()) + 50);
      expect((await fetch(`${url}/health`)).status).toBe(200);
    });

    it('closes promptly even with requests hanging', async () => {
      const service = await start('users');
      await postJson(`${service.url}/admin/fault`, { kind: 'hang' });
      const pending = fetch(`${service.url}/health`).then(
        () => 'answered',
        () => 'dropped',
      );
      await delay(100);
      const closing = performance.now();
      await service.close();
      // Without dropping the hung request, close() would wait out the whole grace period.
      expect(performance.now() - closing).toBeLessThan(SHUTDOWN_GRACE_MS);
      expect(await pending).toBe('dropped');
    });

    it('answers 202 to a crash fault, then crashes', async () => {
      const onCrash = jest.fn();
      const { url } = await start('notifications', { onCrash });
      const response = await postJson(`${url}/admin/fault`, { kind: 'crash' });
      expect(response.status).toBe(202);
      expect((await response.json()).fault.kind).toBe('crash');
      const deadline = Date.now() + 5000;
      while (onCrash.mock.calls.length === 0 && Date.now() < deadline) await delay(20);
      expect(onCrash).toHaveBeenCalledTimes(1);
    });

    it.each([
      ['an unknown kind', { kind: 'meteor' }],
      ['a rate above 1', { kind: 'errors', rate: 1.5 }],
      ['a negative rate', { kind: 'errors', rate: -0.1 }],
      ['a duration of 0', { kind: 'latency', duration: 0 }],
      ['a duration over an hour', { kind: 'latency', duration: 3601 }],
      ['a latency that is not a number', { kind: 'latency', latencyMs: 'slow' }],
      ['a body that is not an object', ['errors']],
      ['a body that is not JSON', '{kind: errors'],
      ['a body over 16 KB', { kind: 'errors', padding: 'x'.repeat(17 * 1024) }],
    ])('refuses %s with a JSON 400 and keeps serving', async (_what, body) => {
      const { url } = await start('checkout');
      const response = await postJson(`${url}/admin/fault`, body);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const { error } = await response.json();
      expect(error).toEqual({ code: expect.any(String), message: expect.any(String) });
      expect((await (await fetch(`${url}/admin/info`)).json()).fault).toBeNull();
      expect((await fetch(`${url}/checkout/cart/c-1`)).status).toBe(200);
    });
  });

  describe('idempotency', () => {
    it('replays the stored response for a repeated key and reserves stock once', async () => {
      const { url } = await start('inventory');
      const stock = async () => (await (await fetch(`${url}/inventory/stock/sku-3`)).json()).available;
      const before = await stock();
      const reservation = { orderId: 'o-1', sku: 'sku-3', quantity: 5 };
      const first = await postJson(`${url}/inventory/reserve`, reservation, { 'Idempotency-Key': 'key-1' });
      const again = await postJson(`${url}/inventory/reserve`, reservation, { 'Idempotency-Key': 'key-1' });
      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      const body = await first.json();
      expect(await again.json()).toEqual(body);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await stock()).toBe(before - 5);

      const other = await postJson(`${url}/inventory/reserve`, reservation, { 'Idempotency-Key': 'key-2' });
      expect((await other.json()).reservationId).not.toBe(body.reservationId);
      expect(await stock()).toBe(before - 10);
    });

    it('does the work once for concurrent retries with one key', async () => {
      const { url } = await start('payments');
      const charge = { orderId: 'o-9', amountCents: 1200, currency: 'eur' };
      const replies = await Promise.all(
        Array.from({ length: 5 }, () =>
          postJson(`${url}/payments/charge`, charge, { 'Idempotency-Key': 'pay-o-9' }),
        ),
      );
      const ids = new Set(await Promise.all(replies.map(async (r) => (await r.json()).paymentId)));
      expect(ids.size).toBe(1);
      const [paymentId] = [...ids];
      expect(await (await fetch(`${url}/payments/${paymentId}`)).json()).toMatchObject({
        amountCents: 1200,
        currency: 'EUR',
        status: 'captured',
      });
    });

    it('keys by path, so one key on two orders cancels both', async () => {
      const { url } = await start('orders');
      const create = async () =>
        (
          await (
            await postJson(`${url}/orders`, { customerId: 'c', items: [{ sku: 'sku-1', quantity: 1 }] })
          ).json()
        ).orderId;
      const [a, b] = [await create(), await create()];
      for (const id of [a, b]) {
        const response = await postJson(`${url}/orders/${id}/cancel`, {}, { 'Idempotency-Key': 'cancel' });
        expect(await response.json()).toEqual({ orderId: id, status: 'cancelled' });
      }
      const replay = await postJson(`${url}/orders/${a}/cancel`, {}, { 'Idempotency-Key': 'cancel' });
      expect(replay.status).toBe(200);
      expect((await postJson(`${url}/orders/${a}/cancel`, {})).status).toBe(409);
    });

    it('does not store a refusal, so a retry is judged afresh', async () => {
      const { url } = await start('users');
      const bad = await postJson(`${url}/users`, { email: 'nope', name: 'A' }, { 'Idempotency-Key': 'u' });
      expect(bad.status).toBe(400);
      const good = await postJson(
        `${url}/users`,
        { email: 'a@example.com', name: 'A' },
        { 'Idempotency-Key': 'u' },
      );
      expect(good.status).toBe(201);
    });
  });

  describe('domains', () => {
    it('reserves until stock runs out, then answers 409, and release gives stock back', async () => {
      const { url } = await start('inventory', { capacityRps: 10_000 });
      const { available } = await (await fetch(`${url}/inventory/stock/sku-50`)).json();
      const reservations = [];
      for (let left = available; left >= 1000; left -= 1000) {
        const response = await postJson(`${url}/inventory/reserve`, {
          orderId: 'o',
          sku: 'sku-50',
          quantity: 1000,
        });
        expect(response.status).toBe(201);
        reservations.push((await response.json()).reservationId);
      }
      const refused = await postJson(`${url}/inventory/reserve`, {
        orderId: 'o',
        sku: 'sku-50',
        quantity: 1000,
      });
      expect(refused.status).toBe(409);
      expect((await refused.json()).error.code).toBe('insufficient_stock');

      const released = await postJson(`${url}/inventory/release`, { reservationId: reservations[0] });
      expect(await released.json()).toEqual({ reservationId: reservations[0], status: 'released' });
      expect((await postJson(`${url}/inventory/release`, { reservationId: reservations[0] })).status).toBe(
        409,
      );
      expect(
        (await postJson(`${url}/inventory/reserve`, { orderId: 'o', sku: 'sku-50', quantity: 1000 })).status,
      ).toBe(201);
    }, 60_000);

    it('charges, reads and refunds a payment once', async () => {
      const { url } = await start('payments');
      const charged = await postJson(`${url}/payments/charge`, {
        orderId: 'o-1',
        amountCents: 999,
        currency: 'USD',
      });
      expect(charged.status).toBe(201);
      const { paymentId, status } = await charged.json();
      expect(status).toBe('captured');
      const refund = await postJson(`${url}/payments/refund`, { paymentId });
      expect(await refund.json()).toEqual({ paymentId, status: 'refunded' });
      expect((await postJson(`${url}/payments/refund`, { paymentId })).status).toBe(409);
      expect((await (await fetch(`${url}/payments/${paymentId}`)).json()).status).toBe('refunded');
      expect((await fetch(`${url}/payments/pay_unknown`)).status).toBe(404);
    });

    it('ships through checkout and cancels a shipment', async () => {
      const { url } = await start('checkout');
      const shipped = await postJson(`${url}/checkout/ship`, { orderId: 'o-1', address: '1 Main St' });
      expect(shipped.status).toBe(201);
      const { shipmentId, orderId, status } = await shipped.json();
      expect({ orderId, status }).toEqual({ orderId: 'o-1', status: 'shipped' });
      const cancelled = await postJson(`${url}/checkout/ship/${shipmentId}/cancel`, {});
      expect((await cancelled.json()).status).toBe('cancelled');
      expect((await postJson(`${url}/checkout/ship/shp_nope/cancel`, {})).status).toBe(404);
      const cart = await (await fetch(`${url}/checkout/cart/cart-1`)).json();
      expect(cart.items.length).toBeGreaterThan(0);
      expect(await (await fetch(`${url}/checkout/cart/cart-1`)).json()).toEqual(cart);
    });

    it('creates, reads and deactivates users; sends notifications; searches; pings', async () => {
      const users = await start('users');
      const created = await postJson(`${users.url}/users`, { email: 'ann@example.com', name: 'Ann' });
      const { userId } = await created.json();
      expect(created.status).toBe(201);
      expect((await (await fetch(`${users.url}/users/${userId}`)).json()).email).toBe('ann@example.com');
      expect((await (await postJson(`${users.url}/users/${userId}/deactivate`, {})).json()).status).toBe(
        'deactivated',
      );

      const notifications = await start('notifications');
      const sent = await postJson(`${notifications.url}/notifications/send`, {
        to: 'ann@example.com',
        template: 'hi',
      });
      expect(sent.status).toBe(202);
      expect((await sent.json()).notificationId).toEqual(expect.any(String));

      const search = await start('search');
      const found = await (await fetch(`${search.url}/search?q=${encodeURIComponent('wireless')}`)).json();
      expect(found.results.length).toBeGreaterThan(0);
      expect(found.results.every((p: any) => p.name.toLowerCase().includes('wireless'))).toBe(true);

      const gateway = await start('gateway');
      expect(await (await fetch(`${gateway.url}/api/ping`)).json()).toEqual({ pong: true });
      expect((await (await fetch(`${gateway.url}/api/catalog`)).json()).products.length).toBeGreaterThan(0);
    });

    it.each([
      ['payments', '/payments/charge', { orderId: 'o', amountCents: -5, currency: 'EUR' }],
      ['payments', '/payments/charge', { orderId: 'o', amountCents: 1.5, currency: 'EUR' }],
      ['payments', '/payments/charge', { orderId: 'o', amountCents: 100, currency: 'EURO' }],
      ['orders', '/orders', { customerId: 'c', items: [] }],
      ['orders', '/orders', { customerId: 'c', items: [{ sku: 'sku-1', quantity: 0 }] }],
      ['orders', '/orders', { items: [{ sku: 'sku-1', quantity: 1 }] }],
      ['inventory', '/inventory/reserve', { orderId: 'o', sku: 'sku-1', quantity: '2' }],
      ['users', '/users', { email: 'not-an-address', name: 'X' }],
      ['notifications', '/notifications/send', { to: 'a@b', template: 't', data: 'text' }],
      ['checkout', '/checkout/ship', { address: 'nowhere' }],
      ['orders', '/orders', 'not json at all'],
      ['orders', '/orders', [1, 2]],
    ])('%s refuses invalid input to %s with a JSON 400', async (service, path, body) => {
      const { url } = await start(service);
      const response = await postJson(`${url}${path}`, body);
      expect(response.status).toBe(400);
      const { error } = await response.json();
      expect(error).toEqual({ code: expect.any(String), message: expect.any(String) });
    });

    it('answers 400 for a search without a query and 404 for an unknown sku', async () => {
      const search = await start('search');
      expect((await fetch(`${search.url}/search`)).status).toBe(400);
      const inventory = await start('inventory');
      expect((await fetch(`${inventory.url}/inventory/stock/sku-999`)).status).toBe(404);
      const reserve = await postJson(`${inventory.url}/inventory/reserve`, {
        orderId: 'o',
        sku: 'nope',
        quantity: 1,
      });
      expect(reserve.status).toBe(404);
    });
  });
});
