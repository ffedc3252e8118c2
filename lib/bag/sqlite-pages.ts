/**
 * Read-only access to a SQLite 3 database file by its b-tree pages (the documented file format,
 * https://www.sqlite.org/fileformat2.html), for rosbag2 `.db3` files. Why not SQLite itself
 * (sql.js): it needs the whole file in memory (3.3x a bag's size was measured), rejects a cut
 * file as malformed and returns nothing, and, given the path, may create -wal/-shm files. Here
 * pages are read on demand from the file descriptor in blocks, so memory does not grow with the
 * file; every size from the header and the cells is checked against the real file before use;
 * and a damaged or missing page loses only the rows under it, reported, never thrown mid-scan.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { BagError, type Unpacked } from './types.js';
import { uninitialized } from './bytes.js';

/** A page that cannot be used: out of the file (truncated) or not a valid b-tree page. */
export class PageError extends Error {
  constructor(readonly page: number, readonly kind: 'truncated' | 'corrupt', detail: string) {
    super(`page ${page}: ${detail}`);
    this.name = 'PageError';
  }
}

export type SqlValue = null | number | bigint | string | Uint8Array;

/** Where reading lost rows: the page, what was wrong, at which row id of the scan. */
export interface PageDamage {
  page: number;
  kind: 'truncated' | 'corrupt';
  message: string;
  /** Last row id read before the damage (table scans). */
  afterRowid: number | undefined;
}

/**
 * Pages read in one block as a walk goes on: 16 (64 KiB of 4 KiB pages). Measured: sqlite3 → MCAP
 * convert 8% slower with 64-page blocks (median of 8), whose time went to the page faults of fresh
 * memory in each read (likely: 64 KiB stays under glibc's default mmap threshold, so freed blocks are reused).
 */
const BLOCK_PAGES = 16;
/**
 * Pages read on a jump (a page not just after the block held): SQLite interleaves index and table
 * pages as a file grows, so an index walked in a file SQLite wrote jumps at almost every page, and
 * 64-page blocks read 64 times its size (measured: a once-open of a 100k-row db3 written by sql.js
 * took longer than a full scan). Reads that go on from the block's end read BLOCK_PAGES again.
 */
const JUMP_PAGES = 4;
const utf8 = new TextDecoder('utf-8');

/** Where the varint last read by varintAt() ends (a module variable, so the hot paths allocate no tuple). */
let vEnd = 0;

/** The varint at `at` of `b`; its end is left in `vEnd`. */
function varintAt(b: Uint8Array, at: number): number {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const x = b[at + i];
    if (x === undefined) throw new RangeError('varint runs past the page');
    v = v * 128 + (x & 0x7f);
    if (x < 0x80) {
      vEnd = at + i + 1;
      return v;
    }
  }
  const x = b[at + 8];
  if (x === undefined) throw new RangeError('varint runs past the page');
  vEnd = at + 9;
  return v * 256 + x;
}

function varint(b: Uint8Array, at: number): [number, number] {
  const v = varintAt(b, at);
  return [v, vEnd];
}

/** Body bytes of the integer serial types 1-6. */
const INT_BYTES = [0, 1, 2, 3, 4, 6, 8];

export class SqlitePages {
  readonly pageSize: number;
  readonly usable: number;
  /** Pages present in the file (the header's count is not trusted beyond this). */
  readonly pages: number;
  /** The header's page count, when the header says it is valid. */
  readonly declaredPages: number | undefined;
  readonly textEncoding: number;
  /** Opened on demand, closed by close() (a bag left open holds no descriptor between scans). */
  private fd: number | undefined;
  private block: Uint8Array | undefined;
  private blockFirst = 0;
  /** Interior pages, kept: looked up again by row id seeks. */
  private readonly interior = new Map<number, Uint8Array>();

  /** A descriptor the caller owns (an unpacked file): used, never closed here. */
  private readonly borrowed: number | undefined;
  private readonly bytes: Uint8Array | undefined;

  constructor(readonly path: string, data?: Uint8Array | Unpacked) {
    let size: number;
    const head = new Uint8Array(100);
    this.bytes = data instanceof Uint8Array ? data : undefined;
    this.borrowed = data instanceof Uint8Array ? undefined : data?.fd;
    if (data instanceof Uint8Array) {
      size = data.byteLength;
      head.set(data.subarray(0, 100));
    } else if (data) {
      this.fd = data.fd;
      size = data.size;
      readSync(this.fd, head, 0, 100, 0);
    } else {
      this.fd = openSync(path, 'r');
      size = fstatSync(this.fd).size;
      readSync(this.fd, head, 0, 100, 0);
    }
    try {
      if (size < 100 || utf8.decode(head.subarray(0, 16)) !== 'SQLite format 3\0') throw new BagError(path, `not a SQLite 3 database (${size < 100 ? `only ${size} bytes` : 'no "SQLite format 3" header'})`);
      const v = new DataView(head.buffer);
      const ps = v.getUint16(16);
      this.pageSize = ps === 1 ? 65536 : ps;
      if (this.pageSize < 512 || this.pageSize > 65536 || (this.pageSize & (this.pageSize - 1)) !== 0) throw new BagError(path, `SQLite header: invalid page size ${ps}`);
      const reserved = head[20];
      this.usable = this.pageSize - reserved;
      if (this.usable < 480) throw new BagError(path, `SQLite header: ${reserved} reserved bytes leave too little of a ${this.pageSize}-byte page`);
      this.pages = Math.floor(size / this.pageSize);
      const declared = v.getUint32(28);
      // The count is valid only when "version-valid-for" matches the change counter (else: file size).
      this.declaredPages = declared > 0 && v.getUint32(92) === v.getUint32(24) ? declared : undefined;
      this.textEncoding = v.getUint32(56) || 1;
      if (this.textEncoding !== 1) throw new BagError(path, `SQLite text encoding ${this.textEncoding} (UTF-16) is not supported; rosbag2 writes UTF-8`);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  close(): void {
    if (this.fd !== undefined && this.fd !== this.borrowed) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Page `n` (1-based). Leaf and overflow pages are read in blocks; the returned view stays valid. */
  page(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 1) throw new PageError(n, 'corrupt', 'invalid page number');
    if (n > this.pages) throw new PageError(n, 'truncated', `beyond the end of the file (${this.pages} pages of ${this.pageSize} bytes present)`);
    const kept = this.interior.get(n);
    if (kept) return kept;
    const off = (n - 1) * this.pageSize;
    if (this.bytes) return this.bytes.subarray(off, off + this.pageSize);
    if (!this.block || n < this.blockFirst || n >= this.blockFirst + this.block.byteLength / this.pageSize) {
      const onward = !this.block || n === this.blockFirst + this.block.byteLength / this.pageSize;
      const count = Math.min(onward ? BLOCK_PAGES : JUMP_PAGES, this.pages - n + 1);
      // Not zeroed: only what readSync wrote is kept.
      const buf = uninitialized(count * this.pageSize);
      this.fd ??= this.borrowed ?? openSync(this.path, 'r');
      const got = readSync(this.fd, buf, 0, buf.byteLength, off);
      this.block = buf.subarray(0, got - (got % this.pageSize));
      this.blockFirst = n;
      if (this.block.byteLength === 0) throw new PageError(n, 'truncated', 'could not be read');
    }
    const at = (n - this.blockFirst) * this.pageSize;
    return this.block.subarray(at, at + this.pageSize);
  }

  private header(n: number): { b: Uint8Array; type: number; cells: number; ptrs: number; right: number } {
    const b = this.page(n);
    const h = n === 1 ? 100 : 0;
    const type = b[h];
    if (type !== 0x02 && type !== 0x05 && type !== 0x0a && type !== 0x0d) throw new PageError(n, 'corrupt', `not a b-tree page (type byte 0x${type.toString(16)})`);
    const cells = (b[h + 3] << 8) | b[h + 4];
    const leaf = type === 0x0a || type === 0x0d;
    const ptrs = h + (leaf ? 8 : 12);
    if (ptrs + cells * 2 > this.usable) throw new PageError(n, 'corrupt', `${cells} cells do not fit in the page`);
    const right = leaf ? 0 : ((b[h + 8] << 24) | (b[h + 9] << 16) | (b[h + 10] << 8) | b[h + 11]) >>> 0;
    // At most 4096 kept (16 MiB of 4 KiB pages): memory stays bounded whatever the file size.
    if (!leaf && this.interior.size < 4096) this.interior.set(n, this.bytes ? b : b.slice());
    return { b, type, cells, ptrs, right };
  }

  private cell(n: number, b: Uint8Array, ptrs: number, i: number): number {
    const at = (b[ptrs + 2 * i] << 8) | b[ptrs + 2 * i + 1];
    if (at < ptrs || at >= this.usable) throw new PageError(n, 'corrupt', `cell ${i} points outside the page (${at})`);
    return at;
  }

  /** Local part and overflow of a payload of `size` bytes at `at` in page `n`. */
  private payload(n: number, b: Uint8Array, at: number, size: number, index: boolean, full: boolean): Uint8Array {
    const U = this.usable;
    const X = index ? Math.floor(((U - 12) * 64) / 255) - 23 : U - 35;
    if (size <= X) {
      if (at + size > U) throw new PageError(n, 'corrupt', `a ${size}-byte cell runs past the page`);
      return b.subarray(at, at + size);
    }
    if (size > this.pages * this.pageSize) throw new PageError(n, 'corrupt', `a cell claims ${size} bytes, more than the file holds`);
    const M = Math.floor(((U - 12) * 32) / 255) - 23;
    const K = M + ((size - M) % (U - 4));
    const local = K <= X ? K : M;
    if (at + local + 4 > U) throw new PageError(n, 'corrupt', 'an overflowing cell runs past the page');
    if (!full) return b.subarray(at, at + local);
    // Filled to the end below, or the read throws.
    const out = uninitialized(size);
    out.set(b.subarray(at, at + local));
    let next = ((b[at + local] << 24) | (b[at + local + 1] << 16) | (b[at + local + 2] << 8) | b[at + local + 3]) >>> 0;
    let filled = local;
    let hops = 0;
    while (filled < size) {
      if (next === 0 || ++hops > this.pages) throw new PageError(n, 'corrupt', `overflow chain ends after ${filled} of ${size} bytes`);
      const o = this.page(next);
      const take = Math.min(U - 4, size - filled);
      out.set(o.subarray(4, 4 + take), filled);
      filled += take;
      next = ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
    }
    return out;
  }

  /**
   * Rows of the table b-tree at `root`, in row id order: [rowid, payload]. `full` false gives
   * only the local part of big payloads (enough for the leading columns). A damaged subtree is
   * reported to `damage` and skipped; the scan goes on with the next one.
   */
  *rows(root: number, damage: (d: PageDamage) => void, full = true): Generator<[number, Uint8Array]> {
    let last: number | undefined;
    let visited = 0;
    // An explicit stack of interior pages (page, header, next cell) rather than nested generators:
    // each row is yielded once, not once per level of the tree (a fifth of a db3 read's time).
    const stack: { n: number; h: ReturnType<SqlitePages['header']>; i: number }[] = [];
    let next: number | undefined = root;
    let depth = 0;
    for (;;) {
      if (next !== undefined) {
        const n = next;
        next = undefined;
        let h;
        try {
          if (depth > 40 || ++visited > this.pages) throw new PageError(n, 'corrupt', 'b-tree loops or is too deep');
          h = this.header(n);
          if (h.type !== 0x05 && h.type !== 0x0d) throw new PageError(n, 'corrupt', 'not a table b-tree page');
        } catch (e) {
          damage(toDamage(e, n, last));
          h = undefined;
        }
        if (h && h.type === 0x0d) {
          const { b, cells, ptrs } = h;
          for (let i = 0; i < cells; i++) {
            let row: [number, Uint8Array];
            try {
              const at = this.cell(n, b, ptrs, i);
              const size = varintAt(b, at);
              const rowid = varintAt(b, vEnd);
              row = [rowid, this.payload(n, b, vEnd, size, false, full)];
            } catch (e) {
              damage(toDamage(e, n, last));
              continue;
            }
            last = row[0];
            yield row;
          }
        } else if (h) {
          stack.push({ n, h, i: 0 });
          depth++;
        }
      }
      // The next child of the innermost interior page (its cells, then its right-most child).
      const top = stack[stack.length - 1];
      if (!top) return;
      const { b, cells, ptrs, right } = top.h;
      if (top.i > cells) {
        stack.pop();
        depth--;
        continue;
      }
      const i = top.i++;
      if (i === cells) {
        next = right;
        continue;
      }
      try {
        const at = this.cell(top.n, b, ptrs, i);
        next = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
      } catch (e) {
        damage(toDamage(e, top.n, last));
      }
    }
  }

  /** Entries of the index b-tree at `root`, in key order (record payloads). */
  *indexEntries(root: number, damage: (d: PageDamage) => void): Generator<Uint8Array> {
    let visited = 0;
    // An explicit stack, as rows(): each entry is yielded once, not once per level of the tree.
    // `down`: the left child of cell i has been walked (an interior entry comes after its child).
    const stack: { n: number; h: ReturnType<SqlitePages['header']>; i: number; down: boolean }[] = [];
    let next: number | undefined = root;
    for (;;) {
      if (next !== undefined) {
        const n = next;
        next = undefined;
        try {
          if (stack.length > 40 || ++visited > this.pages) throw new PageError(n, 'corrupt', 'b-tree loops or is too deep');
          const h = this.header(n);
          if (h.type !== 0x02 && h.type !== 0x0a) throw new PageError(n, 'corrupt', 'not an index b-tree page');
          stack.push({ n, h, i: 0, down: false });
        } catch (e) {
          damage(toDamage(e, n, undefined));
        }
      }
      const top = stack[stack.length - 1];
      if (!top) return;
      const { b, type, cells, ptrs, right } = top.h;
      if (top.i > cells || (top.i === cells && type !== 0x02)) {
        stack.pop();
        continue;
      }
      if (top.i === cells) {
        top.i++;
        next = right;
        continue;
      }
      let entry: Uint8Array;
      let child = 0;
      try {
        let at = this.cell(top.n, b, ptrs, top.i);
        if (type === 0x02) {
          child = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
          at += 4;
        }
        const size = varintAt(b, at);
        entry = this.payload(top.n, b, vEnd, size, true, true);
      } catch (e) {
        damage(toDamage(e, top.n, undefined));
        top.i++;
        top.down = false;
        continue;
      }
      if (child && !top.down) {
        top.down = true;
        next = child;
        continue;
      }
      top.down = false;
      top.i++;
      yield entry;
    }
  }

  /**
   * How many entries the index b-tree at `root` holds (every page's cell count: interior cells are
   * entries too), and its first and last entries (the leftmost and rightmost leaves), without
   * reading each entry; undefined when a page is damaged, the tree loops or is too deep.
   */
  indexSummary(root: number): { entries: number; first: Uint8Array | undefined; last: Uint8Array | undefined } | undefined {
    try {
      let entries = 0;
      let visited = 0;
      const stack: [number, number][] = [[root, 0]];
      for (let top = stack.pop(); top; top = stack.pop()) {
        const [n, depth] = top;
        if (depth > 40 || ++visited > this.pages) return undefined;
        const { b, type, cells, ptrs, right } = this.header(n);
        if (type !== 0x02 && type !== 0x0a) return undefined;
        entries += cells;
        if (type === 0x02) {
          // Pushed right to left, so that children are read left to right: in file order, as written (block reads).
          stack.push([right, depth + 1]);
          for (let i = cells - 1; i >= 0; i--) {
            const at = this.cell(n, b, ptrs, i);
            stack.push([((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0, depth + 1]);
          }
        }
      }
      const end = (leftmost: boolean): Uint8Array | undefined => {
        let n = root;
        for (let depth = 0; depth <= 40; depth++) {
          const { b, type, cells, ptrs, right } = this.header(n);
          if (type === 0x0a) {
            if (cells === 0) return undefined;
            const at = this.cell(n, b, ptrs, leftmost ? 0 : cells - 1);
            const size = varintAt(b, at);
            return this.payload(n, b, vEnd, size, true, true);
          }
          if (leftmost) {
            if (cells === 0) return undefined;
            const at = this.cell(n, b, ptrs, 0);
            n = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
          } else n = right;
        }
        return undefined;
      };
      return { entries, first: end(true), last: end(false) };
    } catch {
      return undefined;
    }
  }

  /**
   * The cells of page `n` if it is a table leaf: [rowid, payload] each (for salvaging rows
   * when the b-tree above them is lost). Throws PageError if it is not one.
   */
  leafCells(n: number, full: boolean): [number, Uint8Array][] {
    const { b, type, cells, ptrs } = this.header(n);
    if (type !== 0x0d) throw new PageError(n, 'corrupt', 'not a table leaf');
    const out: [number, Uint8Array][] = [];
    for (let i = 0; i < cells; i++) {
      const at = this.cell(n, b, ptrs, i);
      const [size, p1] = varint(b, at);
      const [rowid, p2] = varint(b, p1);
      out.push([rowid, this.payload(n, b, p2, size, false, full)]);
    }
    return out;
  }

  /** The row with `rowid` in the table b-tree at `root`, or undefined. */
  row(root: number, rowid: number): Uint8Array | undefined {
    let n = root;
    for (let depth = 0; depth < 40; depth++) {
      const { b, type, cells, ptrs, right } = this.header(n);
      if (type === 0x0d) {
        for (let i = 0; i < cells; i++) {
          const at = this.cell(n, b, ptrs, i);
          const [size, p1] = varint(b, at);
          const [id, p2] = varint(b, p1);
          if (id === rowid) return this.payload(n, b, p2, size, false, true);
        }
        return undefined;
      }
      if (type !== 0x05) throw new PageError(n, 'corrupt', 'not a table b-tree page');
      // First cell whose key (largest row id on its left) is >= rowid; else the right-most child.
      let lo = 0;
      let hi = cells;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const [key] = varint(b, this.cell(n, b, ptrs, mid) + 4);
        if (key < rowid) lo = mid + 1;
        else hi = mid;
      }
      if (lo === cells) n = right;
      else {
        const at = this.cell(n, b, ptrs, lo);
        n = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
      }
    }
    throw new PageError(n, 'corrupt', 'b-tree too deep');
  }
}

function toDamage(e: unknown, page: number, afterRowid: number | undefined): PageDamage {
  if (e instanceof PageError) return { page: e.page, kind: e.kind, message: e.message, afterRowid };
  return { page, kind: 'corrupt', message: `page ${page}: ${(e as Error).message}`, afterRowid };
}

/**
 * Decodes a record (https://www.sqlite.org/fileformat2.html#record_format). `count` limits the
 * columns decoded; a record cut short (local part only) decodes the columns that are present.
 */
export function decodeRecord(p: Uint8Array, count = Infinity): SqlValue[] {
  const hsize = varintAt(p, 0);
  const h0 = vEnd;
  if (hsize > p.byteLength || hsize < h0) throw new RangeError(`record header of ${hsize} bytes in a ${p.byteLength}-byte record`);
  const out: SqlValue[] = [];
  let h = h0;
  let at = hsize;
  while (h < hsize && out.length < count) {
    const t = varintAt(p, h);
    h = vEnd;
    if (t === 0) out.push(null);
    else if (t >= 1 && t <= 6) {
      const len = INT_BYTES[t];
      if (at + len > p.byteLength) throw new RangeError('integer runs past the record');
      if (len <= 6) {
        out.push(signed(p, at, len));
      } else out.push(bigInt64(p, at));
      at += len;
    } else if (t === 7) {
      if (at + 8 > p.byteLength) throw new RangeError('float runs past the record');
      out.push(new DataView(p.buffer, p.byteOffset + at, 8).getFloat64(0));
      at += 8;
    } else if (t === 8 || t === 9) out.push(t - 8);
    else if (t >= 12) {
      const len = Math.floor((t - 12) / 2);
      if (at + len > p.byteLength) throw new RangeError(`${t % 2 ? 'text' : 'blob'} of ${len} bytes runs past the record`);
      const v = p.subarray(at, at + len);
      out.push(t % 2 ? utf8.decode(v) : v);
      at += len;
    } else throw new RangeError(`reserved serial type ${t}`);
  }
  return out;
}

/**
 * DataViews over the last two buffers read from: one per block of pages, not one per value (a
 * timestamp a message). Two, for a table and its index read in step (each has its own blocks).
 */
let viewOf: ArrayBufferLike | undefined;
let view: DataView | undefined;
let viewOf2: ArrayBufferLike | undefined;
let view2: DataView | undefined;
function bigInt64(p: Uint8Array, at: number): bigint {
  if (p.buffer !== viewOf || !view) {
    if (p.buffer === viewOf2 && view2) {
      [viewOf, viewOf2, view, view2] = [viewOf2, viewOf, view2, view];
    } else {
      [viewOf2, view2] = [viewOf, view];
      view = new DataView(p.buffer);
      viewOf = p.buffer;
    }
  }
  return (view as DataView).getBigInt64(p.byteOffset + at);
}

let keyRowid = 0;

/** The second integer of the entry last read by `indexKey()`. */
export function lastKeyRowid(): number {
  return keyRowid;
}

/** An integer column of serial type `t` (1-6, or the constants 0 and 1 as types 8 and 9) at `at`. */
function intAt(p: Uint8Array, at: number, t: number): number | bigint {
  if (t >= 8) return t - 8;
  return t === 6 ? bigInt64(p, at) : signed(p, at, INT_BYTES[t]);
}

/**
 * An index entry of two integer columns (timestamp_idx: timestamp, row id) without decodeRecord's
 * array: the timestamp, the row id left in `keyRowid`; undefined when it is not two integers.
 */
export function indexKey(p: Uint8Array): bigint | undefined {
  const hsize = p[0];
  const t1 = p[1];
  const t2 = p[2];
  // A 3-byte header (one-byte varints): what any entry of two integers has.
  if (hsize !== 3 || p.byteLength < 3 || !(t1 >= 1 && t1 <= 9 && t1 !== 7) || !(t2 >= 1 && t2 <= 9 && t2 !== 7)) return undefined;
  const l1 = t1 >= 8 ? 0 : INT_BYTES[t1];
  const l2 = t2 >= 8 ? 0 : INT_BYTES[t2];
  if (3 + l1 + l2 > p.byteLength) return undefined;
  keyRowid = Number(intAt(p, 3 + l1, t2));
  const t = intAt(p, 3, t1);
  return typeof t === 'bigint' ? t : BigInt(t);
}

function signed(p: Uint8Array, at: number, len: number): number {
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + p[at + i];
  return p[at] & 0x80 ? v - 2 ** (8 * len) : v;
}
