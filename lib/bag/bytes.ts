/**
 * A buffer of `n` bytes that is not zeroed, for a caller that overwrites what it returns. Why: a
 * zeroed block of fresh memory (`new Uint8Array(n)`) cost 8× the file read that fills it (256 KiB
 * blocks of a db3), and as much as level-1 zstd per chunk. A plain Uint8Array over Buffer's memory,
 * so that `.slice()` still copies (Buffer's `.slice()` is a view).
 */
export function uninitialized(n: number): Uint8Array {
  const b = Buffer.allocUnsafe(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}
