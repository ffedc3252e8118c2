/**
 * Writes a rosbag2 sqlite3 file (schema version 4: topics with type hash, message_definitions,
 * `timestamp_idx`) as SQLite 3 pages (https://www.sqlite.org/fileformat2.html), streamed to the
 * file: leaf and overflow pages are written as rows come, the interior pages of each b-tree
 * are built bottom-up at the end, page 1 (header and schema) last. Memory holds one page and
 * 16 bytes per row (for the index), not the bag. It is a plain rollback-journal database, so
 * no -wal/-shm files; SQLite's own `PRAGMA integrity_check` accepts it (tested with sql.js).
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export interface SqliteOutTopic {
  name: string;
  type: string;
  serializationFormat: string;
  offeredQosProfiles: string;
  typeDescriptionHash: string;
  /** ros2msg text ('' is a real empty message), or null when unknown (rosbag2 then uses installed packages). */
  definition: string | null;
}

/** A message row (a BagMessage fits). */
export interface SqliteOutMessage {
  topic: string;
  logTimeNs: bigint;
  data: Uint8Array;
}

const PAGE = 4096;
const U = PAGE; // no reserved bytes
const utf8 = new TextEncoder();

type Value = null | number | bigint | string | Uint8Array;

function varintLen(v: number): number {
  let n = 1;
  while (v >= 128 && n < 9) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function putVarint(b: Uint8Array, at: number, v: number): number {
  if (v < 128) {
    b[at] = v;
    return at + 1;
  }
  // Values here stay below 2^53 (sizes, row ids): 7-bit groups, most significant first, written from the end.
  const n = varintLen(v);
  for (let i = n - 1; i >= 0; i--) {
    b[at + i] = (v % 128) | (i < n - 1 ? 0x80 : 0);
    v = Math.floor(v / 128);
  }
  return at + n;
}

/** Body bytes of integer serial types 0-9 (8 and 9 are the constants 0 and 1). */
const INT_BYTES = [0, 1, 2, 3, 4, 6, 8, 8, 0, 0];
const INT_LIMITS = [1, 2, 3, 4, 6].map((len) => 2 ** (8 * len - 1));
const BIG_LIMITS = [1, 2, 3, 4, 6].map((len) => 1n << BigInt(8 * len - 1));

/** The serial type of an integer, as serial() gives it, without converting a number to a bigint. */
function intType(v: number | bigint): number {
  if (typeof v === 'number') {
    if (v === 0) return 8;
    if (v === 1) return 9;
    for (let k = 0; k < 5; k++) if (v >= -INT_LIMITS[k] && v < INT_LIMITS[k]) return k + 1;
    return 6;
  }
  if (v === 0n) return 8;
  if (v === 1n) return 9;
  for (let k = 0; k < 5; k++) if (v >= -BIG_LIMITS[k] && v < BIG_LIMITS[k]) return k + 1;
  return 6;
}

/** Writes integer `v` big-endian in the `len` bytes of its serial type; returns the end. */
function putInt(b: Uint8Array, view: DataView, at: number, v: number | bigint, len: number): number {
  if (len === 8) view.setBigInt64(at, typeof v === 'bigint' ? v : BigInt(v));
  else if (len > 0) {
    // |v| < 2^47 here: exact as a number; two's complement for negative values.
    let x = Number(v);
    if (x < 0) x += 2 ** (8 * len);
    for (let k = len - 1; k >= 0; k--) {
      b[at + k] = x % 256;
      x = Math.floor(x / 256);
    }
  }
  return at + len;
}

/** Serial type and body length of one value (schema format 4: 0 and 1 take no body). */
function serial(v: Value): [number, number] {
  if (v === null) return [0, 0];
  if (typeof v === 'string') {
    const n = utf8.encode(v).byteLength;
    return [n * 2 + 13, n];
  }
  if (v instanceof Uint8Array) return [v.byteLength * 2 + 12, v.byteLength];
  const x = typeof v === 'bigint' ? v : BigInt(v);
  if (x === 0n) return [8, 0];
  if (x === 1n) return [9, 0];
  for (const [t, len] of [[1, 1], [2, 2], [3, 3], [4, 4], [5, 6]] as const) {
    const lim = 1n << BigInt(8 * len - 1);
    if (x >= -lim && x < lim) return [t, len];
  }
  return [6, 8];
}

/** A record (https://www.sqlite.org/fileformat2.html#record_format) of `values`. */
export function encodeRecord(values: readonly Value[]): Uint8Array {
  const types = values.map(serial);
  let hdr = types.reduce((n, [t]) => n + varintLen(t), 0);
  hdr += varintLen(hdr + 1) > 1 ? 2 : 1;
  const body = types.reduce((n, [, l]) => n + l, 0);
  const out = new Uint8Array(hdr + body);
  let h = putVarint(out, 0, hdr);
  let at = hdr;
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    const [t, len] = types[i];
    h = putVarint(out, h, t);
    if (t >= 1 && t <= 6) {
      const x = BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(v as number));
      if (len === 8) view.setBigUint64(at, x);
      else for (let k = 0; k < len; k++) out[at + k] = Number((x >> BigInt(8 * (len - 1 - k))) & 0xffn);
    } else if (typeof v === 'string') out.set(utf8.encode(v), at);
    else if (v instanceof Uint8Array) out.set(v, at);
    at += len;
  });
  return out;
}

/**
 * Sequential page output: pages are numbered in the order they are allocated; page 1 is written last.
 * Pages come almost always in file order, so runs of them go out in 256-page writes (one write per
 * page was a fifth of a convert's time).
 */
class PageFile {
  next = 2;
  private readonly run = new Uint8Array(256 * PAGE);
  private runStart = 0;
  private runPages = 0;
  constructor(private readonly fd: number) {}
  alloc(): number {
    return this.next++;
  }
  write(page: number, bytes: Uint8Array): void {
    if (bytes.byteLength !== PAGE) throw new Error(`page ${page}: ${bytes.byteLength} bytes, not ${PAGE}`);
    if (this.runPages > 0 && (page !== this.runStart + this.runPages || this.runPages * PAGE === this.run.byteLength)) this.flush();
    if (this.runPages === 0) this.runStart = page;
    this.run.set(bytes, this.runPages * PAGE);
    this.runPages++;
  }
  flush(): void {
    const n = this.runPages * PAGE;
    for (let off = 0; off < n; ) off += writeSync(this.fd, this.run, off, n - off, (this.runStart - 1) * PAGE + off);
    this.runPages = 0;
  }
}

/** A b-tree page being filled from the end (cells) and the start (header, cell pointers). */
class PageBuilder {
  buf = new Uint8Array(PAGE);
  cells = 0;
  top = U;
  constructor(private readonly type: number, private readonly hdr: number, private readonly start = 0) {}
  fits(cellLen: number): boolean {
    return this.start + this.hdr + 2 * (this.cells + 1) + cellLen <= this.top;
  }
  add(cell: Uint8Array): void {
    this.buf.set(cell, this.reserve(cell.byteLength));
  }
  /** Room for a cell of `cellLen` bytes (and its pointer); returns where to write it in `buf`. */
  reserve(cellLen: number): number {
    this.top -= cellLen;
    const p = this.start + this.hdr + 2 * this.cells;
    this.buf[p] = this.top >> 8;
    this.buf[p + 1] = this.top & 0xff;
    this.cells++;
    return this.top;
  }
  /** Empty again, for the next page (its bytes were copied out by PageFile.write). */
  reset(): void {
    this.buf.fill(0);
    this.cells = 0;
    this.top = U;
  }
  finish(right?: number): Uint8Array {
    const b = this.buf;
    const s = this.start;
    b[s] = this.type;
    b[s + 3] = this.cells >> 8;
    b[s + 4] = this.cells & 0xff;
    const top = this.top === 65536 ? 0 : this.top;
    b[s + 5] = top >> 8;
    b[s + 6] = top & 0xff;
    if (right !== undefined) new DataView(b.buffer).setUint32(s + 8, right);
    return b;
  }
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v);
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** A table b-tree written in row id order: leaves as they fill, interior pages at finish(). */
class TableWriter {
  private readonly leaf = new PageBuilder(0x0d, 8);
  private leafView = new DataView(this.leaf.buf.buffer);
  private children: [number, number][] = [];
  private lastRowid = 0;
  constructor(private readonly f: PageFile) {}

  /**
   * A messages row (id NULL, so the row id; topic_id, timestamp, data): the cell encodeRecord and
   * add() make, written straight into the leaf page without their allocations (convert writes one
   * per message). A row too big for the page goes through add() and its overflow pages.
   */
  addMessage(rowid: number, topicId: number, timeNs: bigint, data: Uint8Array): void {
    const tTopic = intType(topicId);
    const tTime = intType(timeNs);
    const tData = data.byteLength * 2 + 12;
    let hdr = 3 + varintLen(tData);
    hdr += varintLen(hdr + 1) > 1 ? 2 : 1;
    const P = hdr + INT_BYTES[tTopic] + INT_BYTES[tTime] + data.byteLength;
    if (P > U - 35) {
      this.add(rowid, encodeRecord([null, topicId, timeNs, data]));
      return;
    }
    const cellLen = varintLen(P) + varintLen(rowid) + P;
    if (!this.leaf.fits(cellLen)) this.flush();
    const b = this.leaf.buf;
    let at = this.leaf.reserve(cellLen);
    at = putVarint(b, at, P);
    at = putVarint(b, at, rowid);
    at = putVarint(b, at, hdr);
    b[at++] = 0;
    b[at++] = tTopic;
    b[at++] = tTime;
    at = putVarint(b, at, tData);
    at = putInt(b, this.leafView, at, topicId, INT_BYTES[tTopic]);
    at = putInt(b, this.leafView, at, timeNs, INT_BYTES[tTime]);
    b.set(data, at);
    this.lastRowid = rowid;
  }

  add(rowid: number, record: Uint8Array): void {
    const P = record.byteLength;
    const X = U - 35;
    let local = P;
    let overflow: number | undefined;
    if (P > X) {
      const M = Math.floor(((U - 12) * 32) / 255) - 23;
      const K = M + ((P - M) % (U - 4));
      local = K <= X ? K : M;
    }
    const head = new Uint8Array(varintLen(P) + varintLen(rowid));
    putVarint(head, putVarint(head, 0, P), rowid);
    const cellLen = head.byteLength + local + (local < P ? 4 : 0);
    if (!this.leaf.fits(cellLen)) this.flush();
    if (local < P) {
      // Overflow chain, written now: [next page][U-4 bytes] each.
      const pages: number[] = [];
      for (let at = local; at < P; at += U - 4) pages.push(this.f.alloc());
      overflow = pages[0];
      pages.forEach((pg, i) => {
        const o = new Uint8Array(PAGE);
        new DataView(o.buffer).setUint32(0, pages[i + 1] ?? 0);
        const from = local + i * (U - 4);
        o.set(record.subarray(from, Math.min(P, from + U - 4)), 4);
        this.f.write(pg, o);
      });
    }
    const cell = new Uint8Array(cellLen);
    cell.set(head);
    cell.set(record.subarray(0, local), head.byteLength);
    if (overflow !== undefined) new DataView(cell.buffer).setUint32(head.byteLength + local, overflow);
    this.leaf.add(cell);
    this.lastRowid = rowid;
  }

  private flush(): void {
    if (this.leaf.cells === 0) return;
    const pg = this.f.alloc();
    this.f.write(pg, this.leaf.finish());
    this.children.push([pg, this.lastRowid]);
    this.leaf.reset();
  }

  /** Writes what is left and the interior levels; returns the root page number. */
  finish(): number {
    this.flush();
    if (this.children.length === 0) {
      const pg = this.f.alloc();
      this.f.write(pg, this.leaf.finish());
      return pg;
    }
    // Cells are a 4-byte child and a row id varint (<= 9 bytes), plus a 2-byte pointer.
    const cap = Math.floor((U - 12) / 15) + 1;
    let level = this.children;
    while (level.length > 1) {
      const up: [number, number][] = [];
      for (const group of evenGroups(level.length, cap)) {
        const kids = level.slice(group[0], group[1]);
        const page = new PageBuilder(0x05, 12);
        for (const [child, maxRowid] of kids.slice(0, -1)) {
          const cell = new Uint8Array(4 + varintLen(maxRowid));
          new DataView(cell.buffer).setUint32(0, child);
          putVarint(cell, 4, maxRowid);
          page.add(cell);
        }
        const last = kids[kids.length - 1];
        const pg = this.f.alloc();
        this.f.write(pg, page.finish(last[0]));
        up.push([pg, last[1]]);
      }
      level = up;
    }
    return level[0][0];
  }
}

/** [start, end) ranges splitting `n` items into the fewest groups of at most `cap`, as even as possible. */
function evenGroups(n: number, cap: number, groups = Math.ceil(n / cap)): [number, number][] {
  const base = Math.floor(n / groups);
  const extra = n % groups;
  const out: [number, number][] = [];
  let at = 0;
  for (let k = 0; k < groups; k++) {
    const size = base + (k < extra ? 1 : 0);
    out.push([at, at + size]);
    at += size;
  }
  return out;
}

/**
 * The index b-tree of (timestamp, rowid) entries, already in order, built bottom-up: m leaves
 * separated by m-1 entries that go up a level, and so on (separators are not repeated below).
 */
function writeIndex(f: PageFile, times: BigInt64Array, rowids: Float64Array, n: number): number {
  const entry = (i: number): Uint8Array => {
    const rec = encodeRecord([times[i], rowids[i]]);
    const cell = new Uint8Array(varintLen(rec.byteLength) + rec.byteLength);
    cell.set(rec, putVarint(cell, 0, rec.byteLength));
    return cell;
  };
  // Leaf entries are written in place: entry()'s bytes without its allocations (one per message).
  const leaf = new PageBuilder(0x0a, 8);
  const leafView = new DataView(leaf.buf.buffer);
  const writeLeaf = (lo: number, hi: number): number => {
    leaf.reset();
    const b = leaf.buf;
    for (let i = lo; i < hi; i++) {
      const tTime = intType(times[i]);
      const tRow = intType(rowids[i]);
      const rec = 3 + INT_BYTES[tTime] + INT_BYTES[tRow];
      let at = leaf.reserve(1 + rec);
      b[at++] = rec;
      b[at++] = 3;
      b[at++] = tTime;
      b[at++] = tRow;
      at = putInt(b, leafView, at, times[i], INT_BYTES[tTime]);
      putInt(b, leafView, at, rowids[i], INT_BYTES[tRow]);
    }
    const pg = f.alloc();
    f.write(pg, leaf.finish());
    return pg;
  };
  // Entries are at most 1 + 1 + 2 + 8 + 8 = 20 bytes + a 2-byte pointer.
  const leafCap = Math.floor((U - 8) / 22);
  const innerCap = Math.floor((U - 12) / 26);
  if (n <= leafCap) return writeLeaf(0, n);
  // Leaves: m of them around m-1 separators.
  const m = Math.ceil((n + 1) / (leafCap + 1));
  let children: number[] = [];
  let seps: number[] = [];
  let at = 0;
  for (const [lo, hi] of evenGroups(n - (m - 1), leafCap, m)) {
    children.push(writeLeaf(at, at + (hi - lo)));
    at += hi - lo;
    if (children.length < m) seps.push(at++);
  }
  // Interior levels: groups of children with the separators between them; one separator between groups goes up.
  while (children.length > 1) {
    const upChildren: number[] = [];
    const upSeps: number[] = [];
    const groups = evenGroups(children.length, innerCap + 1);
    groups.forEach(([lo, hi], k) => {
      const p = new PageBuilder(0x02, 12);
      for (let j = lo; j < hi - 1; j++) p.add(concat(u32(children[j]), entry(seps[j])));
      const pg = f.alloc();
      f.write(pg, p.finish(children[hi - 1]));
      upChildren.push(pg);
      if (k < groups.length - 1) upSeps.push(seps[hi - 1]);
    });
    children = upChildren;
    seps = upSeps;
  }
  return children[0];
}

const SCHEMA: [string, string][] = [
  ['schema', 'CREATE TABLE schema(schema_version INTEGER PRIMARY KEY,ros_distro TEXT NOT NULL)'],
  ['metadata', 'CREATE TABLE metadata(id INTEGER PRIMARY KEY,metadata_version INTEGER NOT NULL,metadata TEXT NOT NULL)'],
  ['topics', 'CREATE TABLE topics(id INTEGER PRIMARY KEY,name TEXT NOT NULL,type TEXT NOT NULL,serialization_format TEXT NOT NULL,offered_qos_profiles TEXT NOT NULL,type_description_hash TEXT NOT NULL)'],
  ['message_definitions', 'CREATE TABLE message_definitions(id INTEGER PRIMARY KEY,topic_type TEXT NOT NULL,encoding TEXT NOT NULL,encoded_message_definition TEXT NOT NULL,type_description_hash TEXT NOT NULL)'],
  ['messages', 'CREATE TABLE messages(id INTEGER PRIMARY KEY,topic_id INTEGER NOT NULL,timestamp INTEGER NOT NULL,data BLOB NOT NULL)'],
];

/**
 * Writes the db3; returns the number of messages. `metadataYaml`, when given, is called with the
 * count once every message is written, and its text goes in the metadata table as rosbag2 Jazzy does.
 * `onProgress` is called every 1000 messages.
 */
export async function writeSqliteFile(
  path: string,
  topics: readonly SqliteOutTopic[],
  messages: Iterable<SqliteOutMessage>,
  rosDistro = '',
  metadataYaml?: (count: number, perTopic: ReadonlyMap<string, number>) => string,
  onProgress?: (written: number) => void,
): Promise<number> {
  const fd = openSync(path, 'wx');
  try {
    const f = new PageFile(fd);
    const roots = new Map<string, number>();
    const small = (name: string, rows: Value[][]): void => {
      const t = new TableWriter(f);
      rows.forEach((r, i) => t.add(i + 1, encodeRecord(r)));
      roots.set(name, t.finish());
    };
    // INTEGER PRIMARY KEY columns are stored as NULL: the row id is the value.
    const sv = new TableWriter(f);
    sv.add(4, encodeRecord([null, rosDistro]));
    roots.set('schema', sv.finish());
    const ids = new Map<string, number>();
    small('topics', topics.map((t, i) => {
      ids.set(t.name, i + 1);
      return [null, t.name, t.type, t.serializationFormat, t.offeredQosProfiles, t.typeDescriptionHash];
    }));
    const defined = new Map<string, SqliteOutTopic>();
    for (const t of topics) if (!defined.has(t.type)) defined.set(t.type, t);
    small('message_definitions', [...defined.values()].map((t) => [null, t.type, t.definition === null ? 'unknown' : 'ros2msg', t.definition ?? '', t.typeDescriptionHash]));

    const msgsT = new TableWriter(f);
    let times = new BigInt64Array(1024);
    let rowids = new Float64Array(1024);
    let n = 0;
    let sorted = true;
    const perTopic = new Array<number>(topics.length + 1).fill(0);
    for (const m of messages) {
      const id = ids.get(m.topic);
      if (id === undefined) throw new Error(`${path}: message on unlisted topic '${m.topic}'`);
      n++;
      perTopic[id]++;
      const timeNs = m.logTimeNs;
      msgsT.addMessage(n, id, timeNs, m.data);
      if (n % 1000 === 0) onProgress?.(n);
      if (n > times.length) {
        const t2 = new BigInt64Array(times.length * 2);
        t2.set(times);
        times = t2;
        const r2 = new Float64Array(rowids.length * 2);
        r2.set(rowids);
        rowids = r2;
      }
      if (n > 1 && timeNs < times[n - 2]) sorted = false;
      times[n - 1] = timeNs;
      rowids[n - 1] = n;
    }
    roots.set('messages', msgsT.finish());
    small('metadata', metadataYaml === undefined ? [] : [[null, 9, metadataYaml(n, new Map(topics.map((t, i) => [t.name, perTopic[i + 1]])))]]);
    if (!sorted) {
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (times[a] < times[b] ? -1 : times[a] > times[b] ? 1 : a - b));
      const t2 = new BigInt64Array(n);
      const r2 = new Float64Array(n);
      order.forEach((o, i) => {
        t2[i] = times[o];
        r2[i] = rowids[o];
      });
      times = t2;
      rowids = r2;
    }
    const indexRoot = writeIndex(f, times, rowids, n);

    // Page 1: the database header and sqlite_master.
    const master = new PageBuilder(0x0d, 8, 100);
    const entries: Value[][] = SCHEMA.map(([name, sql]) => ['table', name, name, roots.get(name) as number, sql]);
    entries.push(['index', 'timestamp_idx', 'messages', indexRoot, 'CREATE INDEX timestamp_idx ON messages (timestamp ASC)']);
    entries.forEach((e, i) => {
      const rec = encodeRecord(e);
      const cell = new Uint8Array(varintLen(rec.byteLength) + varintLen(i + 1) + rec.byteLength);
      cell.set(rec, putVarint(cell, putVarint(cell, 0, rec.byteLength), i + 1));
      if (!master.fits(cell.byteLength)) throw new Error('sqlite schema does not fit in page 1');
      master.add(cell);
    });
    const p1 = master.finish();
    const h = new DataView(p1.buffer);
    p1.set(utf8.encode('SQLite format 3\0'), 0);
    h.setUint16(16, PAGE);
    p1[18] = 1; // legacy (rollback journal), so readers never make -wal/-shm files
    p1[19] = 1;
    p1[20] = 0;
    p1[21] = 64;
    p1[22] = 32;
    p1[23] = 32;
    h.setUint32(24, 1); // change counter
    h.setUint32(28, f.next - 1); // pages
    h.setUint32(40, 1); // schema cookie
    h.setUint32(44, 4); // schema format
    h.setUint32(56, 1); // UTF-8
    h.setUint32(92, 1); // version-valid-for = change counter
    h.setUint32(96, 3045001);
    f.write(1, p1);
    f.flush();
    return n;
  } finally {
    closeSync(fd);
  }
}
