/**
 * Checks run only on candidates the detectors' regexes found, to cut false positives: check digits, number
 * plans and entropy. All are pure and allocation-light.
 */
import { isIP } from 'node:net';

/** The Luhn (mod 10) check used by payment cards. `digits` must be digits only. */
export function luhn(digits: string): boolean {
  const n = digits.length;
  if (n < 2) return false;
  let sum = 0;
  let double = false;
  for (let i = n - 1; i >= 0; i--) {
    const c = digits.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return false;
    if (double) {
      const d = c * 2;
      sum += d > 9 ? d - 9 : d;
    } else sum += c;
    double = !double;
  }
  return sum % 10 === 0;
}

/** IBAN lengths by country (SWIFT IBAN registry). */
// prettier-ignore
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21,
  CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18,
  FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26,
  IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24,
  ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29,
  PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23,
  ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/**
 * An IBAN's structure and ISO 7064 mod-97 check: known country, that country's length, two check digits,
 * alphanumeric body, remainder 1. Spaces are ignored and letters may be lower case.
 */
export function validIban(iban: string): boolean {
  const s = iban.replace(/ /g, '').toUpperCase();
  const expected = IBAN_LENGTHS[s.slice(0, 2)];
  if (expected === undefined || s.length !== expected) return false;
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(s)) return false;
  return ibanMod97(s) === 1;
}

/** The mod-97 remainder of an upper-case IBAN after moving its first four characters to the end. */
export function ibanMod97(iban: string): number {
  let r = 0;
  const n = iban.length;
  for (let k = 0; k < n; k++) {
    const c = iban.charCodeAt((k + 4) % n);
    if (c >= 48 && c <= 57) r = (r * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) r = (r * 100 + (c - 55)) % 97;
    else return -1;
  }
  return r;
}

/**
 * US Social Security number rules: area not 000, 666 or 9xx; group not 00; serial not 0000. Accepts
 * "123-45-6789", "123 45 6789" or nine digits.
 */
export function validUsSsn(ssn: string): boolean {
  const m = /^(\d{3})[- ]?(\d{2})[- ]?(\d{4})$/.exec(ssn);
  if (!m) return false;
  const [, area = '', group = '', serial = ''] = m;
  if (area === '000' || area === '666' || area.charCodeAt(0) === 57 /* 9 */) return false;
  return group !== '00' && serial !== '0000';
}

/** Dotted-quad IPv4 with every octet 0..255 (leading zeros refused, as `net.isIP` does). */
export function isIPv4(s: string): boolean {
  return isIP(s) === 4;
}

/**
 * Loopback, private (RFC 1918, unique local), link-local, shared (CGNAT) and unspecified addresses: they name
 * a machine inside an operator's own network, not a person, and ops replies and logs need them (a health check
 * that failed on 127.0.0.1:7101). Public addresses, documentation ranges included, identify a client.
 */
const INFRASTRUCTURE_IPV4 =
  /^(?:127\.|10\.|192\.168\.|169\.254\.|0\.0\.0\.0$|172\.(?:1[6-9]|2\d|3[01])\.|100\.(?:6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.)/;
const INFRASTRUCTURE_IPV6 = /^(?:::1?$|f[cd][0-9a-f]{0,2}:|fe[89ab][0-9a-f]?:)/i;

export function isInfrastructureAddress(ip: string): boolean {
  return isIP(ip) === 4 ? INFRASTRUCTURE_IPV4.test(ip) : INFRASTRUCTURE_IPV6.test(ip);
}

/** Any IPv6 form `net.isIP` accepts, including `::1` and embedded IPv4. */
export function isIPv6(s: string): boolean {
  return isIP(s) === 6;
}

/** Per-character counts for ASCII strings, reused between calls and left all zero after each. */
const ASCII_COUNTS = new Uint32Array(128);

/** Shannon entropy of the string's characters, in bits per character (0 for the empty string). */
export function shannonEntropy(s: string): number {
  const n = s.length;
  if (n === 0) return 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128) {
      ASCII_COUNTS.fill(0);
      return entropyOfCounts(characterCounts(s).values(), n);
    }
    ASCII_COUNTS[c]!++;
  }
  let h = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const count = ASCII_COUNTS[c] as number;
    if (count === 0) continue; // already counted
    ASCII_COUNTS[c] = 0;
    const p = count / n;
    h -= p * Math.log2(p);
  }
  return h;
}

function characterCounts(s: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  return counts;
}

function entropyOfCounts(counts: Iterable<number>, n: number): number {
  let h = 0;
  for (const count of counts) {
    const p = count / n;
    h -= p * Math.log2(p);
  }
  return h;
}
