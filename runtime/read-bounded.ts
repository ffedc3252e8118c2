/**
 * Reads a text file the user named (launch files, params files, `$(file-content)`) with a size
 * bound: only regular files (a character device like /dev/zero or a FIFO never ends), and never
 * more than `maxBytes`, checked while reading (a /proc file reports size 0, a file may grow).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** 16 MiB: far above any launch file, params file or URDF, far below what hurts a 2 GB board. */
export const MAX_TEXT_FILE_BYTES = 16 * 1024 * 1024;

export class FileTooLargeError extends Error {
  constructor(readonly path: string, readonly detail: string) {
    super(detail);
    this.name = 'FileTooLargeError';
  }
}

function kindOf(st: { isDirectory(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The file's text (UTF-8). Throws FileTooLargeError for a non-regular file or one over
 * `maxBytes`; fs errors (ENOENT, EACCES) pass through with their code.
 */
export function readTextBounded(path: string, maxBytes = MAX_TEXT_FILE_BYTES): string {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new FileTooLargeError(path, `'${path}' is ${kindOf(st)}, not a regular file; refusing to read it`);
    if (st.size > maxBytes) throw new FileTooLargeError(path, `'${path}' is ${st.size} bytes, over the ${maxBytes}-byte limit`);
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw new FileTooLargeError(path, `'${path}' grew past the ${maxBytes}-byte limit while being read`);
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
