import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The opsbot package folder, found by walking up to package.json: the same code runs from bot/ under the
 * test runner and from dist/bot/ when built, at different depths.
 */
export function packageRoot(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}
