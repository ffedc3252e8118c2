/**
 * One rosbag2 sqlite3 file (`.db3`), read page by page (sqlite-pages.ts): the file is opened
 * read-only by Kestrel itself, never by SQLite, so no `-wal`/`-shm` appear beside it, and
 * memory stays bounded whatever the file size. Opening scans the messages table once for
 * counts and the time range (leading columns only); `rows()` then streams rows in
 * (timestamp, id) order: in table order when that is already time order (as rosbag2 writes),
 * else through `timestamp_idx`, else by sorting (timestamp, id) pairs (16 bytes a row).
 * Opened `once` (convert), a whole file with a usable `timestamp_idx` is not scanned: the index's
 * page headers and its first and last entries give the row count and time range, and the rows
 * stream in index order, each checked against its entry (per-topic counts are then unknown).
 * Timestamps are 64-bit integers read exactly as bigint.
 */
import { existsSync, statSync } from 'node:fs';
import { decodeRecord, indexKey, lastKeyRowid, SqlitePages, type PageDamage, type SqlValue } from './sqlite-pages.js';
import { BagError, type BagProblem, type Unpacked } from './types.js';

export interface SqliteTopic {
  id: number;
  name: string;
  type: string;
  serializationFormat: string;
  offeredQosProfiles: string;
  typeDescriptionHash: string;
}

export interface SqliteDefinition {
  type: string;
  encoding: string;
  text: string;
}

export interface SqliteRow {
  id: number;
  topicId: number;
  timestamp: bigint;
  data: Uint8Array;
}

export interface SqliteBagFile {
  schemaVersion: number | undefined;
  rosDistro: string;
  topics: SqliteTopic[];
  definitions: SqliteDefinition[];
  /** Readable rows per topic id, from the opening scan; undefined when opened `once` without one. */
  counts: Map<number, number> | undefined;
  rowCount: number;
  startNs: bigint | undefined;
  endNs: bigint | undefined;
  sizeBytes: number;
  /** Damage found (the opening scan, then any found while streaming rows). */
  problems: BagProblem[];
  /** Every readable row in (timestamp, id) order, streamed from the file. */
  rows(): Generator<SqliteRow>;
  close(): void;
}

/** What the `timestamp_idx` walk of a file opened once found. */
interface IndexScan {
  rows: number;
  startNs: bigint | undefined;
  endNs: bigint | undefined;
  /** The rows were read through once (what that pass found is reported once). */
  streamed: boolean;
}

interface TableInfo {
  root: number;
  /** Column names in order; the INTEGER PRIMARY KEY column (stored as NULL) reads as the row id. */
  columns: string[];
  rowidColumn: number;
}

/** Column names of a CREATE TABLE statement (rosbag2's simple ones: no nested parentheses in names). */
function parseColumns(sqlText: string): { columns: string[]; rowidColumn: number } {
  const open = sqlText.indexOf('(');
  const close = sqlText.lastIndexOf(')');
  const body = open >= 0 && close > open ? sqlText.slice(open + 1, close) : '';
  const defs: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of body) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      defs.push(cur);
      cur = '';
    } else cur += c;
  }
  defs.push(cur);
  const columns: string[] = [];
  let rowidColumn = -1;
  for (const d of defs.map((x) => x.trim()).filter(Boolean)) {
    if (/^(PRIMARY|UNIQUE|CHECK|FOREIGN|CONSTRAINT)\b/i.test(d)) continue;
    const name = /^["`[]?([^"`\]\s]+)/.exec(d)?.[1] ?? '';
    if (/^\S+\s+INTEGER\s+PRIMARY\s+KEY/i.test(d)) rowidColumn = columns.length;
    columns.push(name);
  }
  return { columns, rowidColumn };
}

function num(v: SqlValue | undefined): number {
  return typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number.NaN;
}

function text(v: SqlValue | undefined): string {
  return v === null || v === undefined ? '' : v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v);
}

export interface SqliteOpenOptions {
  /**
   * The rows will be read once, in one pass, and none kept (convert): a whole file with a usable
   * `timestamp_idx` opens from that index (no scan of the table: per-topic counts are not known),
   * rows stream in index order, checked against it, damage counted as they stream, and row data
   * are views of the pages read (no copy).
   */
  once?: boolean;
}

/** `bytes`: the file in memory, or its decompressed copy (whole-file compression); else the file is read. */
export function openSqliteFile(path: string, bytes?: Uint8Array | Unpacked, o: SqliteOpenOptions = {}): SqliteBagFile {
  const db = new SqlitePages(path, bytes);
  const sizeBytes = bytes === undefined ? statSync(path).size : bytes instanceof Uint8Array ? bytes.byteLength : bytes.size;
  const problems: BagProblem[] = [];
  const report = (what: string) => (d: PageDamage): void => {
    problems.push({ kind: d.kind, file: path, offset: (d.page - 1) * db.pageSize, message: `${what}: ${d.message}${d.afterRowid !== undefined ? ` (after row id ${d.afterRowid})` : ''}; the rows stored there are lost` });
  };
  try {
    if (db.declaredPages !== undefined && db.declaredPages > db.pages) {
      problems.push({ kind: 'truncated', file: path, offset: db.pages * db.pageSize, message: `file is truncated: ${sizeBytes} bytes, the header says ${db.declaredPages} pages of ${db.pageSize} (${db.declaredPages * db.pageSize} bytes); rows stored after byte ${db.pages * db.pageSize} are lost` });
    }
    const wal = `${path}-wal`;
    if (!bytes && existsSync(wal) && statSync(wal).size > 0) {
      problems.push({ kind: 'corrupt', file: wal, message: `a ${statSync(wal).size}-byte write-ahead log lies beside the file: transactions not checkpointed into it are not read (open the bag once with sqlite3 to checkpoint them)` });
    }
    // sqlite_master: type, name, tbl_name, rootpage, sql.
    const tables = new Map<string, TableInfo>();
    const indexes: { table: string; root: number; sql: string }[] = [];
    for (const [, p] of db.rows(1, report('sqlite schema (page 1)'))) {
      const [type, name, tbl, root, sqlText] = decodeRecord(p);
      if (type === 'table') tables.set(text(name), { root: num(root), ...parseColumns(text(sqlText)) });
      if (type === 'index') indexes.push({ table: text(tbl), root: num(root), sql: text(sqlText) });
    }
    const topicsT = tables.get('topics');
    const messagesT = tables.get('messages');
    if (!topicsT || !messagesT) {
      const found = [...tables.keys()].join(', ') || 'none';
      throw new BagError(path, `not a rosbag2 sqlite3 file: tables 'topics' and 'messages' expected, found ${found}${problems.length > 0 ? ` (${problems[0].message})` : ''}`);
    }
    /** Rows of a small table as name → value maps. */
    const all = (t: TableInfo, what: string): { rowid: number; get: (c: string) => SqlValue | undefined }[] =>
      [...db.rows(t.root, report(what))].map(([rowid, p]) => {
        const v = decodeRecord(p);
        return { rowid, get: (c: string) => (t.columns.indexOf(c) === t.rowidColumn ? rowid : v[t.columns.indexOf(c)]) };
      });
    let schemaVersion: number | undefined;
    let rosDistro = '';
    const schemaT = tables.get('schema');
    if (schemaT) {
      const r = all(schemaT, 'schema table')[0];
      if (r) {
        schemaVersion = num(r.get('schema_version'));
        rosDistro = text(r.get('ros_distro'));
      }
    }
    const topics: SqliteTopic[] = all(topicsT, 'topics table').map((r) => ({
      id: num(r.get('id')),
      name: text(r.get('name')),
      type: text(r.get('type')),
      serializationFormat: text(r.get('serialization_format')),
      offeredQosProfiles: text(r.get('offered_qos_profiles')),
      typeDescriptionHash: text(r.get('type_description_hash')),
    }));
    const defsT = tables.get('message_definitions');
    const definitions: SqliteDefinition[] = defsT
      ? all(defsT, 'message_definitions table').map((r) => ({ type: text(r.get('topic_type')), encoding: text(r.get('encoding')), text: text(r.get('encoded_message_definition')) }))
      : [];

    const msgT: TableInfo = messagesT;
    const col = (c: string): number => msgT.columns.indexOf(c);
    const [cId, cTopic, cTime, cData] = [col('id'), col('topic_id'), col('timestamp'), col('data')];
    if (cTopic < 0 || cTime < 0 || cData < 0) throw new BagError(path, `messages table lacks topic_id, timestamp or data (columns: ${messagesT.columns.join(', ')})`);
    const lead = Math.max(cId, cTopic, cTime) + 1;
    const value = (rowid: number, v: SqlValue[], c: number): SqlValue | undefined => (c === messagesT.rowidColumn ? rowid : v[c]);
    const stamp = (x: SqlValue | undefined): bigint | undefined => (typeof x === 'bigint' ? x : typeof x === 'number' && Number.isInteger(x) ? BigInt(x) : undefined);

    const tsIndex = indexes.find((i) => i.table === 'messages' && /\(\s*"?timestamp"?\s*(ASC)?\s*\)/i.test(i.sql));
    // Opened once: count and range from the index's page headers and end entries (its order is
    // checked as the rows stream); any doubt at open (damage) and the table is scanned.
    const quick = o.once && problems.length === 0 && tsIndex ? indexSummary(tsIndex.root) : undefined;
    // Opening scan: leading columns only (the local part of each cell), for counts, range and order.
    let counts: Map<number, number> | undefined = quick ? undefined : new Map<number, number>();
    let rowCount = quick?.rows ?? 0;
    let startNs: bigint | undefined = quick?.startNs;
    let endNs: bigint | undefined = quick?.endNs;
    let sorted = true;
    let bad = 0;
    for (const [rowid, p] of quick ? [] : db.rows(messagesT.root, report('messages table'), false)) {
      let t: bigint | undefined;
      let topic = Number.NaN;
      try {
        const v = decodeRecord(p, lead);
        t = stamp(value(rowid, v, cTime));
        topic = num(value(rowid, v, cTopic));
      } catch {
        t = undefined;
      }
      if (t === undefined || !Number.isInteger(topic)) {
        bad++;
        continue;
      }
      if (endNs !== undefined && t < endNs) sorted = false;
      if (startNs === undefined || t < startNs) startNs = t;
      if (endNs === undefined || t > endNs) endNs = t;
      counts?.set(topic, (counts?.get(topic) ?? 0) + 1);
      rowCount++;
    }
    // A header count above the file's pages is a cut file, unless every page the tables use is there.
    const cut = problems.findIndex((p) => p.kind === 'truncated' && p.message.startsWith('file is truncated'));
    if (cut >= 0 && !problems.some((p, i) => i !== cut && p.file === path)) {
      problems[cut] = { kind: 'corrupt', file: path, offset: 28, message: `the header says ${db.declaredPages} pages, the file has ${db.pages}; every page the tables use is present, so no rows are lost (the header's page count is damaged)` };
    }
    // The b-tree above the rows is damaged (a cut file loses its last pages, where interior
    // pages may lie): salvage every leaf page of the file whose cells are messages rows.
    let salvaged: { t: bigint; rowid: number; page: number; cell: number; topic: number }[] | undefined;
    if (problems.some((p) => p.message.startsWith('messages table'))) {
      const topicIds = new Set(topics.map((t) => t.id));
      const seen = new Set<number>();
      salvaged = [];
      for (let pg = 2; pg <= db.pages; pg++) {
        let cells: [number, Uint8Array][];
        try {
          cells = db.leafCells(pg, false);
        } catch {
          continue;
        }
        cells.forEach(([rowid, p], cell) => {
          try {
            const v = decodeRecord(p, lead);
            const t = stamp(value(rowid, v, cTime));
            const topic = num(value(rowid, v, cTopic));
            if (t === undefined || !topicIds.has(topic) || seen.has(rowid) || (msgT.rowidColumn >= 0 && v[msgT.rowidColumn] !== null)) return;
            seen.add(rowid);
            salvaged?.push({ t, rowid, page: pg, cell, topic });
          } catch {
            // not a messages row
          }
        });
      }
      const before = rowCount;
      salvaged.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.rowid - b.rowid));
      counts = new Map();
      rowCount = 0;
      startNs = endNs = undefined;
      for (const r of salvaged) {
        if (startNs === undefined || r.t < startNs) startNs = r.t;
        if (endNs === undefined || r.t > endNs) endNs = r.t;
        rowCount++;
        counts.set(r.topic, (counts.get(r.topic) ?? 0) + 1);
      }
      problems.push({ kind: 'truncated', file: path, message: `the messages table's b-tree is damaged: ${rowCount} row(s) salvaged by scanning the file's pages (${before} reachable through the tree)` });
    }
    if (bad > 0) problems.push({ kind: 'corrupt', file: path, message: `${bad} row(s) of the messages table are damaged (no integer timestamp or topic id): dropped` });

    const toRow = (rowid: number, p: Uint8Array): SqliteRow | undefined => {
      try {
        const v = decodeRecord(p);
        const t = stamp(value(rowid, v, cTime));
        const topic = num(value(rowid, v, cTopic));
        const data = value(rowid, v, cData);
        if (t === undefined || !Number.isInteger(topic)) return undefined;
        // A copy, so that a kept message does not pin the block of pages it was read from (once: none is kept).
        const blob = data instanceof Uint8Array ? (o.once ? data : data.slice()) : typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(0);
        return { id: rowid, topicId: topic, timestamp: t, data: blob };
      } catch {
        return undefined;
      }
    };
    // A row looked up by id (index order, or time order sorted from the scan); unreadable → skipped.
    const rowById = (rowid: number): SqliteRow | undefined => {
      let p: Uint8Array | undefined;
      try {
        p = db.row(msgT.root, rowid);
      } catch {
        return undefined;
      }
      return p && toRow(rowid, p);
    };
    const late = (what: string) => (d: PageDamage): void => {
      // Damage already reported by the opening scan is not reported twice.
      if (!problems.some((p) => p.offset === (d.page - 1) * db.pageSize)) report(what)(d);
    };
    /**
     * A row looked up by id must carry the time it was ordered by (from the index, or from the
     * scan): when a damaged row, index entry or interior page makes them disagree, the row is
     * dropped and counted, so that rows still come in time order.
     */
    let disagree: { problem: BagProblem; n: number } | undefined;
    const agrees = (r: SqliteRow, t: bigint | undefined, what: string): boolean => {
      if (r.timestamp === t) return true;
      if (!disagree) {
        disagree = { problem: { kind: 'corrupt', file: path, message: '' }, n: 0 };
        problems.push(disagree.problem);
      }
      disagree.n++;
      disagree.problem.message = `${disagree.n} row(s) whose timestamp disagrees with ${what} (the row, the index or the b-tree above it is damaged): dropped, to keep time order (first: row id ${r.id}, ${r.timestamp} ns, ordered as ${t} ns)`;
      return false;
    };
    db.close();
    return {
      schemaVersion,
      rosDistro,
      topics,
      definitions,
      counts,
      rowCount,
      startNs,
      endNs,
      sizeBytes,
      problems,
      *rows() {
        try {
          yield* rowsInOrder();
        } finally {
          db.close();
        }
      },
      close: () => db.close(),
    };
    /**
     * Opened from the index: rows in index order, each checked against its entry. While the
     * entries' row ids go up, the table is read in its own order, in step with them (through a
     * second reader, so that neither walk evicts the other's block of pages); from the first entry
     * whose row id goes back (a table not in time order), rows are looked up by id. What a scan
     * at open would have found is counted in the first pass: damaged rows, entries out of order
     * (dropped), rows whose time disagrees with their entry (dropped), entries without a row, and,
     * while the table is read in step to its end, rows the index lacks (dropped).
     */
    function* checkedTableRows(q: IndexScan, root: number): Generator<SqliteRow> {
      const first = !q.streamed;
      const ix = new SqlitePages(path, bytes);
      try {
        const table = db.rows(msgT.root, late('messages table'));
        let row = table.next();
        let inStep = true;
        let damaged = 0;
        let unlisted = 0;
        let missing = 0;
        let disorder = 0;
        let lastT: bigint | undefined;
        let lastId = -1;
        for (const e of ix.indexEntries(root, late('timestamp index'))) {
          const t = indexKey(e);
          const rowid = lastKeyRowid();
          if (t === undefined || !Number.isInteger(rowid) || (lastT !== undefined && (t < lastT || (t === lastT && rowid <= lastId)))) {
            disorder++;
            continue;
          }
          if (inStep && rowid < lastId) inStep = false;
          lastT = t;
          lastId = rowid;
          let r: SqliteRow | undefined;
          if (inStep) {
            while (!row.done && row.value[0] < rowid) {
              unlisted++;
              row = table.next();
            }
            if (row.done || row.value[0] !== rowid) {
              missing++;
              continue;
            }
            r = toRow(rowid, row.value[1]);
            row = table.next();
            if (!r) {
              damaged++;
              continue;
            }
          } else {
            r = rowById(rowid);
            if (!r) {
              missing++;
              continue;
            }
          }
          if (r.timestamp === t) yield r;
          else if (first) agrees(r, t, 'timestamp_idx');
        }
        if (inStep) {
          for (; !row.done; row = table.next()) unlisted++;
        }
        q.streamed = true;
        if (!first) return;
        if (damaged > 0) problems.push({ kind: 'corrupt', file: path, message: `${damaged} row(s) of the messages table are damaged (no integer timestamp or topic id): dropped` });
        if (disorder > 0) problems.push({ kind: 'corrupt', file: path, message: `${disorder} timestamp_idx entr(ies) out of order or unreadable (the index is damaged): their rows are dropped, to keep time order` });
        // Looked up by id, rows the index lacks are not seen: counted only when the table was read in step to its end.
        if (inStep && unlisted > 0) problems.push({ kind: 'corrupt', file: path, message: `${unlisted} row(s) of the messages table are not in timestamp_idx (the index or the table is damaged): dropped, their place in time order is not known` });
        if (missing > 0) problems.push({ kind: 'corrupt', file: path, message: `timestamp_idx lists ${missing} row(s) the messages table does not hold or that cannot be read (the index or the table is damaged)` });
      } finally {
        ix.close();
      }
    }
    function* rowsInOrder(): Generator<SqliteRow> {
      if (salvaged) {
        let page = -1;
        let cells: [number, Uint8Array][] = [];
        for (const r of salvaged) {
          let row: SqliteRow | undefined;
          try {
            if (r.page !== page) {
              cells = db.leafCells(r.page, true);
              page = r.page;
            }
            const [rowid, p] = cells[r.cell];
            row = toRow(rowid, p);
          } catch {
            row = undefined;
          }
          if (row) yield row;
        }
        return;
      }
      if (quick && tsIndex) {
        yield* checkedTableRows(quick, tsIndex.root);
        return;
      }
      if (sorted) {
        for (const [rowid, p] of db.rows(msgT.root, late('messages table'))) {
          const r = toRow(rowid, p);
          if (r) yield r;
        }
        return;
      }
      // Ties in time keep row id order, as `ORDER BY timestamp, id`.
      if (tsIndex) {
        let lastT: bigint | undefined;
        let lastId = -1;
        let indexOk = true;
        for (const e of db.indexEntries(tsIndex.root, late('timestamp index'))) {
          let ts: bigint | undefined;
          let rowid = -1;
          try {
            const [t, id] = decodeRecord(e);
            ts = stamp(t);
            rowid = num(id);
          } catch {
            // A damaged entry (found by the bag-db3 fuzz target): the index is not used, the table is sorted instead.
            ts = undefined;
          }
          if (ts === undefined || (lastT !== undefined && (ts < lastT || (ts === lastT && rowid < lastId)))) {
            indexOk = false;
            break;
          }
          lastT = ts;
          lastId = rowid;
        }
        if (indexOk) {
          for (const e of db.indexEntries(tsIndex.root, () => undefined)) {
            const [t, id] = decodeRecord(e);
            const rowid = num(id);
            const r = rowById(rowid);
            if (r && agrees(r, stamp(t), 'timestamp_idx')) yield r;
          }
          return;
        }
      }
      const order: [bigint, number][] = [];
      for (const [rowid, p] of db.rows(msgT.root, () => undefined, false)) {
        try {
          const v = decodeRecord(p, lead);
          const t = stamp(value(rowid, v, cTime));
          if (t !== undefined) order.push([t, rowid]);
        } catch {
          // counted by the opening scan
        }
      }
      order.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
      for (const [t, rowid] of order) {
        const r = rowById(rowid);
        if (r && agrees(r, t, 'the table scan')) yield r;
      }
    }
    /** Count and time range from the index's page headers and its first and last entries; undefined on any damage. */
    function indexSummary(root: number): IndexScan | undefined {
      const sum = db.indexSummary(root);
      if (!sum) return undefined;
      const startNs = sum.first && indexKey(sum.first);
      const endNs = sum.last && indexKey(sum.last);
      if (sum.entries > 0 && (startNs === undefined || endNs === undefined || endNs < startNs)) return undefined;
      return { rows: sum.entries, startNs, endNs, streamed: false };
    }
  } catch (e) {
    db.close();
    if (e instanceof BagError) throw e;
    throw new BagError(path, `cannot read the sqlite3 file: ${(e as Error).message}`);
  }
}
