import type { OpsEvent } from './envelope';

/**
 * Posts an event to a webhook in CloudEvents' structured JSON mode. Anything but a 2xx answer is a failure
 * the bus retries and, in the end, dead-letters; the error names the status, never the response body (it
 * may echo secrets back).
 */
export async function postToWebhook(
  target: { url: string; timeoutMs: number; headers?: Readonly<Record<string, string>> },
  event: OpsEvent,
): Promise<void> {
  const res = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json; charset=utf-8', ...target.headers },
    body: JSON.stringify(event),
    signal: AbortSignal.timeout(target.timeoutMs),
  });
  // Drain the body so the connection can be reused.
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) throw new Error(`webhook ${new URL(target.url).host} answered HTTP ${res.status}`);
}
