import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { textReply } from '../../bot/core/message';
import { signToken } from '../../bot/server/signed-token';
import { loopbackHttpServer, testConfig, testServer } from '../support/runtime';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  // .ci/run installs Debian's chromium; on a laptop without it, say so rather than pass silently.
  console.error(
    `widget browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
  );
}
// Every test in this file needs the browser, so all of them sit in this one describe.
const describeWithChromium = hasChromium ? describe : describe.skip;

describeWithChromium('web chat widget in headless Chromium', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  let health: Awaited<ReturnType<typeof loopbackHttpServer>>;
  let browser: Browser;

  beforeAll(async () => {
    health = await loopbackHttpServer((res) => res.end('{"status":"ok"}'));
    server = await testServer(
      testConfig((raw) => {
        raw.services.payments.environments.production.healthUrl = health.url;
        raw.auth = { tokenSecret: SECRET };
        raw.policy.users['web:olivia'] = ['operator'];
      }),
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 60000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await health?.close();
  });

  it('opens the page, asks "is payments healthy?" and shows the answer', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
    await page.goto(server.url);
    await page
      .locator('[data-testid="opsbot-status"]')
      .filter({ hasText: /^online$/ })
      .waitFor();
    await page.locator('[data-testid="opsbot-input"]').fill('is payments healthy?');
    await page.locator('[data-testid="opsbot-send"]').click();
    await page
      .locator('[data-testid="opsbot-user-message"]')
      .filter({ hasText: 'is payments healthy?' })
      .waitFor();
    const answer = page
      .locator('[data-testid="opsbot-bot-message"]')
      .filter({ hasText: 'payments (production) is healthy' });
    await answer.waitFor();
    expect(await answer.innerText()).toMatch(/payments \(production\) is healthy: HTTP 200 in \d+ ms/);

    // An anonymous visitor is a guest: asking to scale is refused with the reason.
    await page.locator('[data-testid="opsbot-input"]').fill('scale payments to 3');
    await page.locator('[data-testid="opsbot-input"]').press('Enter');
    await page
      .locator('[data-testid="opsbot-bot-message"]')
      .filter({ hasText: /needs the permission service\.scale/ })
      .waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('embeds on another site with one script tag and runs a confirmation with its buttons', async () => {
    const page = await browser.newPage();
    const token = signToken({ sub: 'olivia', name: 'Olivia', ttlSeconds: 600 }, SECRET);
    // A third-party page on another origin (its own server, host "localhost") whose only opsbot code is the tag.
    const thirdParty = await loopbackHttpServer((res) => {
      res.setHeader('content-type', 'text/html');
      res.end(
        `<!doctype html><title>Status</title><h1>Acme status</h1><script src="${server.url}/widget.js" data-token="${token}" async></script>`,
      );
    }, '/');
    await page.goto(thirdParty.url.replace('127.0.0.1', 'localhost'));
    await page.locator('[data-testid="opsbot-launcher"]').click();
    await page
      .locator('[data-testid="opsbot-status"]')
      .filter({ hasText: /^online$/ })
      .waitFor();
    await page.locator('[data-testid="opsbot-input"]').fill('scale payments to 3');
    await page.locator('[data-testid="opsbot-input"]').press('Enter');
    await page
      .locator('[data-testid="opsbot-bot-message"]')
      .filter({ hasText: 'Please confirm: scale payments in production to 3 replicas' })
      .waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page
      .locator('[data-testid="opsbot-bot-message"]')
      .filter({ hasText: 'Cancelled: scale payments in production to 3 replicas. Nothing was changed.' })
      .waitFor();
    await page.close();
    await thirdParty.close();
  });

  it('shows a notification posted to the room the widget joined', async () => {
    const page = await browser.newPage();
    const token = signToken({ sub: 'vera', name: 'Vera', ttlSeconds: 600 }, SECRET);
    const host = await loopbackHttpServer((res) => {
      res.setHeader('content-type', 'text/html');
      res.end(
        `<!doctype html><title>War room</title><script src="${server.url}/widget.js" data-token="${token}" data-room="war-room" async></script>`,
      );
    }, '/');
    await page.goto(host.url.replace('127.0.0.1', 'localhost'));
    await page.locator('[data-testid="opsbot-launcher"]').click();
    await page
      .locator('[data-testid="opsbot-status"]')
      .filter({ hasText: /^online$/ })
      .waitFor();
    const receipt = await server.runtime.notifier.notify(
      { channel: 'web', room: 'war-room' },
      textReply('CheckoutLatencyHigh is firing: p95 1.8 s'),
    );
    expect(receipt.delivered).toBe(1);
    await page
      .locator('[data-testid="opsbot-bot-message"]')
      .filter({ hasText: 'CheckoutLatencyHigh is firing: p95 1.8 s' })
      .waitFor();
    await page.close();
    await host.close();
  });
});
