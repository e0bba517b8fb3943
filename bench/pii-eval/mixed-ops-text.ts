/**
 * Realistic ops traffic for the redaction benchmark: JSON, logfmt and kubelet log lines, stack traces, CI
 * output, commit lines and chat, full of what merely looks sensitive (UUIDs, trace ids, commit hashes,
 * timestamps, versions, durations, pod names, order numbers, ports), with one real-looking sensitive value
 * every 1 to 2 KB. Generated from a seed, so every run measures the same text. Every value is synthetic:
 * example domains, fiction phone ranges, documentation IP ranges, PSP test cards, random tokens.
 */
import { seededRandom } from '../../bot/core/seeded-random';

type Random = () => number;

const SERVICES = ['payments', 'checkout', 'orders', 'billing-api', 'notifications', 'gateway', 'search'];
const LEVELS = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR'];
const PATHS = ['/api/v1/orders', '/api/v1/payments/intents', '/healthz', '/api/v2/search', '/metrics'];
const PEOPLE = ['jane', 'omar', 'li', 'sam', 'priya', 'noah'];
const EMAIL_DOMAINS = ['example.com', 'example.org', 'mail.example.net', 'corp.example.co.uk'];
const TEST_CARDS = ['4111 1111 1111 1111', '5555555555554444', '4242-4242-4242-4242', '378282246310005'];
const IBANS = ['DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432', 'NL91ABNA0417164300'];
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function int(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function chars(random: Random, alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(random() * alphabet.length)];
  return s;
}

function uuid(random: Random): string {
  return `${chars(random, HEX, 8)}-${chars(random, HEX, 4)}-4${chars(random, HEX, 3)}-a${chars(random, HEX, 3)}-${chars(random, HEX, 12)}`;
}

function timestamp(random: Random): string {
  const d = new Date(Date.UTC(2024, 4, 1) + Math.floor(random() * 30 * 86_400_000));
  return d.toISOString();
}

function podName(random: Random): string {
  return `${pick(random, SERVICES)}-${chars(random, HEX, 9)}-${chars(random, 'bcdfghjklmnpqrstvwxz2456789', 5)}`;
}

/** A line with no sensitive value, in one of the shapes ops people paste. */
function filler(random: Random): string {
  const service = pick(random, SERVICES);
  switch (int(random, 0, 9)) {
    case 0:
    case 1:
      return JSON.stringify({
        ts: timestamp(random),
        level: pick(random, LEVELS).toLowerCase(),
        service,
        msg: pick(random, ['request completed', 'retrying upstream call', 'cache miss', 'job finished']),
        request_id: uuid(random),
        trace_id: chars(random, HEX, 32),
        duration_ms: int(random, 1, 2500),
        status: pick(random, [200, 200, 201, 204, 404, 502]),
      });
    case 2:
      return `${timestamp(random)} ${pick(random, LEVELS)} ${service} method=GET path=${pick(random, PATHS)} status=${pick(random, [200, 429, 503])} duration=${int(random, 2, 900)}ms bytes=${int(random, 120, 98_000)} span_id=${chars(random, HEX, 16)}`;
    case 3:
      return `I0517 ${int(random, 10, 23)}:${int(random, 10, 59)}:${int(random, 10, 59)}.${int(random, 100_000, 999_999)}    ${int(random, 1000, 9999)} kubelet.go:${int(random, 100, 2999)}] "Pod status updated" pod="prod/${podName(random)}" status="Running" restarts=${int(random, 0, 7)}`;
    case 4:
      return `    at ${service.replace(/-/g, '')}.${pick(random, ['Handler', 'Client', 'Worker'])}.${pick(random, ['process', 'call', 'retry'])} (/app/dist/${service}/index.js:${int(random, 10, 900)}:${int(random, 2, 80)})`;
    case 5:
      return `#${int(random, 100, 999)} [build ${int(random, 2, 9)}/${int(random, 9, 12)}] RUN npm ci --omit=dev  ${(random() * 40).toFixed(1)}s sha256:${chars(random, HEX, 64)}`;
    case 6:
      return `${chars(random, HEX, 7)} ${pick(random, ['fix', 'feat', 'chore'])}(${service}): ${pick(random, ['bump node to 20.19.0', 'retry on 503 with backoff', 'raise pool size to 20', 'drop v1.4.2 shim'])} (#${int(random, 1000, 9999)})`;
    case 7:
      return `${pick(random, PEOPLE)}: ${service} p99 is ${int(random, 120, 980)}ms since ${int(random, 10, 23)}:${int(random, 10, 59)}, ${pick(random, ['rolling back to', 'deploying', 'pinning'])} v${int(random, 1, 4)}.${int(random, 0, 30)}.${int(random, 0, 20)}, see ORD-${int(random, 10_000, 99_999)} and INC-${int(random, 100, 9999)}`;
    case 8:
      return `${pick(random, PEOPLE)}: kafka lag on ${service}-events partition ${int(random, 0, 11)} is ${int(random, 1000, 90_000)} at offset ${int(random, 1_000_000_000, 9_999_999_999)}, consumer restarted ${int(random, 1, 9)} times`;
    default:
      return `${timestamp(random)} WARN ${service} upstream=${service}.prod.svc.cluster.local:${pick(random, [8080, 9090, 443])} attempt=${int(random, 1, 5)} backoff=${int(random, 100, 3200)}ms error="context deadline exceeded" epoch=${int(random, 1_714_000_000, 1_719_999_999)}`;
  }
}

/** A line carrying one sensitive value. */
function sensitive(random: Random): string {
  const who = pick(random, PEOPLE);
  switch (int(random, 0, 6)) {
    case 0:
      return `${who}: can someone loop in ${who}.${pick(random, PEOPLE)}@${pick(random, EMAIL_DOMAINS)} on this?`;
    case 1:
      return `${who}: customer asks for a call back on +1 415 555 01${int(random, 10, 99)}`;
    case 2:
      return `${timestamp(random)} WARN gateway blocked client=203.0.113.${int(random, 1, 254)} reason=rate_limited`;
    case 3:
      return `${who}: refund failed for card ${pick(random, TEST_CARDS)}, retrying`;
    case 4:
      return `DATABASE_URL=postgres://app:${chars(random, BASE62, 16)}@db.prod.internal:5432/orders`;
    case 5:
      return `${who}: oops, pasted token ghp_${chars(random, BASE62, 36)} in #deploys, rotating`;
    default:
      return `${who}: payout bounced, beneficiary IBAN ${pick(random, IBANS)}`;
  }
}

/** About `bytes` UTF-16 code units of mixed ops text, newline-separated, the same for the same seed. */
export function mixedOpsText(bytes: number, seed: number): string {
  const random = seededRandom(seed);
  const lines: string[] = [];
  let length = 0;
  let nextSensitive = int(random, 1024, 2048);
  while (length < bytes) {
    let line: string;
    if (length >= nextSensitive) {
      line = sensitive(random);
      nextSensitive = length + int(random, 1024, 2048);
    } else line = filler(random);
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n');
}
