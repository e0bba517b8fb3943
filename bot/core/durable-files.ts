import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

/** Writes and fsyncs a file, so that what a later rename publishes is really on disk. */
export function writeDurably(file: string, data: string | Uint8Array): void {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces a file all at once: written beside it, then renamed over it, so a reader (or a crash) never sees
 * half a file.
 */
export function replaceFile(file: string, data: string | Uint8Array): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeDurably(temporary, data);
  renameSync(temporary, file);
}
