import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { replaceFile } from '../core/durable-files';
import { metadataPathFor } from '../../engines/predictors';

/** Prettier's printWidth in .prettierrc.json, which `npm run lint` checks model cards against. */
const PRINT_WIDTH = 110;

/** A model card as Prettier formats JSON: an array of plain values that fits on one line is written on one. */
export function modelCardJson(card: object): string {
  const json = JSON.stringify(card, null, 2).replace(
    /^( *)("[^"\n]+": )\[\n((?:\1 {2}[^\n[\]{}]+\n)+)\1\]/gm,
    (whole, indent: string, key: string, items: string) => {
      const line = `${indent}${key}[${items.trim().split(/\n\s*/).join(' ')}],`;
      return line.length <= PRINT_WIDTH ? line.slice(0, -1) : whole;
    },
  );
  return `${json}\n`;
}

/** A card's metrics rounded to four decimals; JSON has no NaN, so one that could not be computed is left out. */
export function cardMetrics(metrics: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(metrics)
      .filter(([, value]) => Number.isFinite(value))
      .map(([name, value]) => [name, Math.round(value * 10000) / 10000]),
  );
}

/**
 * Writes a trained model and its card beside it (`x.onnx`, `x.json`), each written beside and renamed in, so a
 * running opsbot never loads half a model.
 */
export function writeModelFiles(modelFile: string, onnx: Uint8Array, card: object): void {
  mkdirSync(path.dirname(modelFile), { recursive: true });
  replaceFile(metadataPathFor(modelFile), modelCardJson(card));
  replaceFile(modelFile, onnx);
}
