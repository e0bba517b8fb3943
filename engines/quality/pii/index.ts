/** The PII and secrets firewall's detection and redaction library (issue 9). */
export {
  PII_TYPES,
  DEFAULT_THRESHOLD,
  isPiiType,
  type PiiType,
  type Finding,
  type Detector,
} from './finding';
export { detectPii, resolveOverlaps, DETECTORS, type DetectOptions } from './detect';
export { TextScan } from './text-scan';
export {
  redactText,
  redactPii,
  pseudonym,
  validatePolicy,
  DEFAULT_POLICY,
  type RedactionMode,
  type RedactionPolicy,
  type RedactionResult,
} from './redact';
export {
  luhn,
  validIban,
  ibanMod97,
  validUsSsn,
  isIPv4,
  isIPv6,
  shannonEntropy,
  IBAN_LENGTHS,
} from './validators';
export {
  CONTEXT_WINDOW,
  CONTEXT_KEYWORDS,
  NEGATIVE_CONTEXT,
  hasContextBefore,
  scoreWithContext,
} from './context';
