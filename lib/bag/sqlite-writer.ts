/**
 * Writes a rosbag2 sqlite3 file (schema version 4: topics with type hash, message_definitions),
 * built in memory with sql.js and written out once: the target never has -wal/-shm files.
 */
import { writeFileSync } from 'node:fs';
import { sqlJs } from './sqlite-file.js';

export interface SqliteOutTopic {
  name: string;
  type: string;
  serializationFormat: string;
  offeredQosProfiles: string;
  typeDescriptionHash: string;
  /** ros2msg text ('' is a real empty message), or null when unknown (rosbag2 then uses installed packages). */
  definition: string | null;
}

export interface SqliteOutMessage {
  topic: string;
  timeNs: bigint;
  data: Uint8Array;
}

export async function writeSqliteFile(path: string, topics: readonly SqliteOutTopic[], messages: Iterable<SqliteOutMessage>, rosDistro = ''): Promise<number> {
  const SQL = await sqlJs();
  const db = new SQL.Database();
  try {
    db.run(`
      CREATE TABLE schema(schema_version INTEGER PRIMARY KEY, ros_distro TEXT NOT NULL);
      CREATE TABLE metadata(id INTEGER PRIMARY KEY, metadata_version INTEGER NOT NULL, metadata TEXT NOT NULL);
      CREATE TABLE topics(id INTEGER PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, serialization_format TEXT NOT NULL, offered_qos_profiles TEXT NOT NULL, type_description_hash TEXT NOT NULL DEFAULT "");
      CREATE TABLE message_definitions(id INTEGER PRIMARY KEY, topic_type TEXT NOT NULL, encoding TEXT NOT NULL, encoded_message_definition TEXT NOT NULL, type_description_hash TEXT NOT NULL);
      CREATE TABLE messages(id INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL, timestamp INTEGER NOT NULL, data BLOB NOT NULL);
      CREATE INDEX timestamp_idx ON messages (timestamp ASC);
    `);
    db.run('INSERT INTO schema VALUES (4, ?)', [rosDistro]);
    const ids = new Map<string, number>();
    const defined = new Set<string>();
    topics.forEach((t, i) => {
      ids.set(t.name, i + 1);
      db.run('INSERT INTO topics VALUES (?, ?, ?, ?, ?, ?)', [i + 1, t.name, t.type, t.serializationFormat, t.offeredQosProfiles, t.typeDescriptionHash]);
      if (!defined.has(t.type)) {
        defined.add(t.type);
        db.run('INSERT INTO message_definitions(topic_type, encoding, encoded_message_definition, type_description_hash) VALUES (?, ?, ?, ?)', [t.type, t.definition === null ? 'unknown' : 'ros2msg', t.definition ?? '', t.typeDescriptionHash]);
      }
    });
    let n = 0;
    db.run('BEGIN');
    // Timestamps go through text and CAST so that 64-bit nanoseconds stay exact (JS numbers would round).
    const ins = db.prepare('INSERT INTO messages(topic_id, timestamp, data) VALUES (?, CAST(? AS INTEGER), ?)');
    try {
      for (const m of messages) {
        const id = ids.get(m.topic);
        if (id === undefined) throw new Error(`message on unlisted topic '${m.topic}'`);
        ins.run([id, m.timeNs.toString(), m.data]);
        n++;
      }
    } finally {
      ins.free();
    }
    db.run('COMMIT');
    writeFileSync(path, db.export());
    return n;
  } finally {
    db.close();
  }
}
