/**
 * One rosbag2 sqlite3 file (`.db3`), read through sql.js from a copy in memory: the user's
 * bag is never opened by SQLite itself, so no `-wal`/`-shm` files appear beside it.
 * Timestamps are read as text and parsed to bigint, so 64-bit nanoseconds stay exact.
 */
import { readFileSync } from 'node:fs';
import initSqlJs, { type Database, type SqlJsStatic } from 'sql.js';
import type { BagProblem } from './types.js';

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

export interface SqliteFileContents {
  schemaVersion: number | undefined;
  rosDistro: string;
  topics: SqliteTopic[];
  definitions: SqliteDefinition[];
  /** Every readable row, in (timestamp, id) order. */
  rows: SqliteRow[];
  sizeBytes: number;
  problems: BagProblem[];
}

let sql: Promise<SqlJsStatic> | undefined;
export function sqlJs(): Promise<SqlJsStatic> {
  sql ??= initSqlJs();
  return sql;
}

function tableNames(db: Database): Set<string> {
  const r = db.exec("SELECT name FROM sqlite_master WHERE type = 'table'");
  return new Set((r[0]?.values ?? []).map((v) => String(v[0])));
}

function columns(db: Database, table: string): Set<string> {
  const r = db.exec(`PRAGMA table_info(${table})`);
  return new Set((r[0]?.values ?? []).map((v) => String(v[1])));
}

/**
 * A cut db3 is shorter than its header says. SQLite then rejects the whole file as malformed;
 * padding the in-memory copy with zero pages lets it read every intact page before the cut.
 */
function padTruncated(data: Uint8Array, path: string, problems: BagProblem[]): Uint8Array {
  if (data.byteLength < 100) return data;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const ps = view.getUint16(16);
  const pageSize = ps === 1 ? 65536 : ps;
  const pages = view.getUint32(28);
  const expected = pageSize * pages;
  if (pageSize < 512 || pages === 0 || expected <= data.byteLength) return data;
  problems.push({ kind: 'truncated', file: path, offset: data.byteLength, message: `file is truncated: ${data.byteLength} of ${expected} bytes (${pages} pages of ${pageSize}); messages stored after byte ${data.byteLength} are lost` });
  const padded = new Uint8Array(expected);
  padded.set(data);
  return padded;
}

export async function readSqliteFile(path: string, bytes?: Uint8Array): Promise<SqliteFileContents> {
  const raw = bytes ?? new Uint8Array(readFileSync(path));
  const out: SqliteFileContents = { schemaVersion: undefined, rosDistro: '', topics: [], definitions: [], rows: [], sizeBytes: raw.byteLength, problems: [] };
  const data = padTruncated(raw, path, out.problems);
  const SQL = await sqlJs();
  let db: Database;
  try {
    db = new SQL.Database(data);
  } catch (e) {
    out.problems.push({ kind: 'corrupt', file: path, message: `not a readable sqlite3 database: ${(e as Error).message}` });
    return out;
  }
  try {
    let tables: Set<string>;
    try {
      tables = tableNames(db);
    } catch (e) {
      out.problems.push({ kind: 'corrupt', file: path, offset: 0, message: `cannot read the sqlite schema (file damaged or truncated at byte ${data.byteLength}): ${(e as Error).message}; no messages read` });
      return out;
    }
    if (!tables.has('topics') || !tables.has('messages')) {
      out.problems.push({ kind: 'corrupt', file: path, message: `not a rosbag2 sqlite3 file: tables 'topics' and 'messages' expected, found ${[...tables].join(', ') || 'none'}` });
      return out;
    }
    if (tables.has('schema')) {
      const r = db.exec('SELECT schema_version, ros_distro FROM schema');
      if (r[0]?.values[0]) {
        out.schemaVersion = Number(r[0].values[0][0]);
        out.rosDistro = String(r[0].values[0][1] ?? '');
      }
    }
    const tcols = columns(db, 'topics');
    const hashCol = tcols.has('type_description_hash') ? 'type_description_hash' : "''";
    const qosCol = tcols.has('offered_qos_profiles') ? 'offered_qos_profiles' : "''";
    for (const v of db.exec(`SELECT id, name, type, serialization_format, ${qosCol}, ${hashCol} FROM topics ORDER BY id`)[0]?.values ?? []) {
      out.topics.push({ id: Number(v[0]), name: String(v[1]), type: String(v[2]), serializationFormat: String(v[3]), offeredQosProfiles: String(v[4] ?? ''), typeDescriptionHash: String(v[5] ?? '') });
    }
    if (tables.has('message_definitions')) {
      for (const v of db.exec('SELECT topic_type, encoding, encoded_message_definition FROM message_definitions')[0]?.values ?? []) {
        out.definitions.push({ type: String(v[0]), encoding: String(v[1]), text: String(v[2]) });
      }
    }
    // Table order (rowid), so that a damaged b-tree still yields every row before the damage.
    const stmt = db.prepare('SELECT id, topic_id, CAST(timestamp AS TEXT), data FROM messages');
    let lastId: number | undefined;
    try {
      while (stmt.step()) {
        const v = stmt.get();
        const blob = v[3];
        // Zeroed or damaged cells read back as NULLs: the end of what can be trusted.
        if (v[0] === null || v[1] === null || v[2] === null || !(blob instanceof Uint8Array)) throw new Error(`row after id ${lastId ?? 'none'} has NULL fields`);
        lastId = Number(v[0]);
        out.rows.push({ id: lastId, topicId: Number(v[1]), timestamp: BigInt(String(v[2])), data: blob });
      }
    } catch (e) {
      out.problems.push({
        kind: 'truncated',
        file: path,
        message: `messages table damaged (file of ${out.sizeBytes} bytes, truncated or corrupt) after ${lastId === undefined ? 'no row' : `row id ${lastId}`}: ${(e as Error).message}; ${out.rows.length} messages before it were read, the rest are lost`,
      });
    } finally {
      stmt.free();
    }
    out.rows.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.id - b.id));
  } finally {
    db.close();
  }
  return out;
}
