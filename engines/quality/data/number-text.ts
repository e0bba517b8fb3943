/**
 * A measured value as people read it in chat: whole numbers from 100 up (`1,204`), three significant digits
 * below (`12.3`, `0.0123`). Explanations and report lines show values this way, never the raw float.
 */
export function numberText(value: number): string {
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(3)).toLocaleString('en-US', { maximumFractionDigits: 20 });
}
