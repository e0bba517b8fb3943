import type { SlotValue } from '../dialogue/session';

/** A duration slot as people say it: "2 hours", "90 minutes", "45 seconds". */
export function formatSeconds(value: SlotValue | undefined): string {
  const s = Number(value);
  if (!Number.isFinite(s)) return String(value);
  const units: [number, string][] = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (s >= size && s % size === 0) return `${s / size} ${name}${s / size === 1 ? '' : 's'}`;
  }
  return s >= 3600
    ? `${(s / 3600).toFixed(1)} hours`
    : s >= 60
      ? `${Math.round(s / 60)} minutes`
      : `${s} seconds`;
}
