/**
 * rosbag2 `metadata.yaml`, versions 4 to 9: parse into exact values (nanoseconds as bigint),
 * and write version 9, as `ros2 bag` of Jazzy does (offered QoS as a YAML list with enum
 * names, a type hash per topic). Pure functions over text.
 */
import { parseDocument, stringify } from 'yaml';
import { BagError, type BagInfo, type BagTopic, type StorageId } from './types.js';

export interface ParsedMetadata {
  version: number;
  storage: StorageId | string;
  files: { path: string; startNs?: bigint; durationNs?: bigint; messageCount?: number }[];
  topics: BagTopic[];
  messageCount: number;
  startNs: bigint;
  durationNs: bigint;
  compressionFormat: string;
  compressionMode: string;
  rosDistro: string;
}

type Obj = Record<string, unknown>;

/** A value for an error message: bigints (exact YAML integers) and cycles must not make the message itself throw. */
function shown(v: unknown): string {
  try {
    const t = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
    return t === undefined ? String(v) : t.length > 120 ? `${t.slice(0, 117)}...` : t;
  } catch {
    return String(v);
  }
}

function obj(v: unknown, where: string, file: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BagError(file, `${where}: expected a mapping, got ${shown(v)}`);
  return v as Obj;
}

function big(v: unknown, where: string, file: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new BagError(file, `${where}: expected an integer, got ${shown(v)}`);
}

/** YAML integers are parsed as bigint (exact stamps); small ones inside QoS become numbers, so they serialize. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

export interface QosDuration {
  sec: number;
  nsec: number;
}

/** One offered QoS profile as rosbag2 (Jazzy, metadata v9) writes it. */
export interface QosProfile {
  history: string;
  depth: number;
  reliability: string;
  durability: string;
  deadline: QosDuration;
  lifespan: QosDuration;
  liveliness: string;
  liveliness_lease_duration: QosDuration;
  avoid_ros_namespace_conventions: boolean;
}

// rmw enum values (rmw/types.h), as versions <= 8 store them.
const HISTORY = ['system_default', 'keep_last', 'keep_all', 'unknown'];
const RELIABILITY = ['system_default', 'reliable', 'best_effort', 'unknown', 'best_available'];
const DURABILITY = ['system_default', 'transient_local', 'volatile', 'unknown', 'best_available'];
const LIVELINESS = ['system_default', 'automatic', 'manual_by_node', 'manual_by_topic', 'unknown', 'best_available'];

function enumName(v: unknown, names: string[], field: string, file: string): string {
  if (typeof v === 'number' && names[v] !== undefined) return names[v];
  if (typeof v === 'string' && names.includes(v.toLowerCase())) return v.toLowerCase();
  if (typeof v === 'string' && /^\d+$/.test(v) && names[Number(v)] !== undefined) return names[Number(v)];
  throw new BagError(file, `offered_qos_profiles: ${field} ${JSON.stringify(v)} is not one of ${names.join(', ')}`);
}

function duration(v: unknown): QosDuration {
  const o = (v ?? {}) as Record<string, unknown>;
  return { sec: Number(o.sec ?? 0), nsec: Number(o.nsec ?? 0) };
}

/**
 * Offered QoS of a topic in any stored form (YAML text with enum numbers, as metadata <= 8,
 * sqlite3 and MCAP store it; a v9 list with names; '' when not recorded) → profiles.
 */
export function qosProfiles(stored: unknown, file = 'offered_qos_profiles'): QosProfile[] {
  let v = stored;
  if (typeof v === 'string') {
    if (v.trim() === '') return [];
    const doc = parseDocument(v);
    if (doc.errors.length > 0) throw new BagError(file, `offered_qos_profiles is not valid YAML: ${doc.errors[0].message}`);
    v = doc.toJS();
  }
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new BagError(file, `offered_qos_profiles: expected a list, got ${JSON.stringify(plain(v))}`);
  return v.map((raw) => {
    const p = plain(raw) as Record<string, unknown>;
    return {
      history: enumName(p.history ?? 0, HISTORY, 'history', file),
      depth: Number(p.depth ?? 0),
      reliability: enumName(p.reliability ?? 0, RELIABILITY, 'reliability', file),
      durability: enumName(p.durability ?? 0, DURABILITY, 'durability', file),
      deadline: duration(p.deadline),
      lifespan: duration(p.lifespan),
      liveliness: enumName(p.liveliness ?? 0, LIVELINESS, 'liveliness', file),
      liveliness_lease_duration: duration(p.liveliness_lease_duration),
      avoid_ros_namespace_conventions: p.avoid_ros_namespace_conventions === true,
    };
  });
}

/** Profiles as the YAML text that the sqlite3 `topics` table and MCAP channel metadata hold. */
export function qosText(profiles: readonly QosProfile[]): string {
  return profiles.length === 0 ? '' : stringify(profiles.map(sortedKeys), { lineWidth: 0 }).trimEnd();
}

function sortedKeys(p: QosProfile): Record<string, unknown> {
  return Object.fromEntries(Object.entries(p).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function str(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

export function parseMetadata(text: string, file = 'metadata.yaml'): ParsedMetadata {
  // intAsBigInt: nanosecond stamps exceed 2^53 and must stay exact.
  const doc = parseDocument(text, { intAsBigInt: true });
  if (doc.errors.length > 0) throw new BagError(file, `invalid YAML: ${doc.errors[0].message}`);
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // An alias before its anchor, or an alias bomb, is only found when the document is resolved.
    throw new BagError(file, `invalid YAML: ${(e as Error).message}`);
  }
  const root = obj(js, 'document', file);
  const info = obj(root.rosbag2_bagfile_information, 'rosbag2_bagfile_information', file);
  const version = Number(info.version ?? 0);
  if (!(version >= 1 && version <= 9)) throw new BagError(file, `unsupported metadata version ${String(info.version)} (Kestrel reads 4 to 9)`);
  const topicsRaw = Array.isArray(info.topics_with_message_count) ? info.topics_with_message_count : [];
  const topics: BagTopic[] = topicsRaw.map((t, i) => {
    const tw = obj(t, `topics_with_message_count[${i}]`, file);
    const tm = obj(tw.topic_metadata, `topics_with_message_count[${i}].topic_metadata`, file);
    return {
      name: str(tm.name),
      type: str(tm.type),
      serializationFormat: str(tm.serialization_format),
      offeredQosProfiles: plain(tm.offered_qos_profiles ?? ''),
      messageCount: Number(tw.message_count ?? 0),
      typeDescriptionHash: tm.type_description_hash === undefined ? undefined : str(tm.type_description_hash),
    };
  });
  const rel = Array.isArray(info.relative_file_paths) ? info.relative_file_paths.map(str) : [];
  const filesRaw = Array.isArray(info.files) ? info.files : [];
  const files = rel.map((path) => {
    const f = filesRaw.map((x, i) => obj(x, `files[${i}]`, file)).find((x) => str(x.path) === path);
    return {
      path,
      startNs: f ? big(obj(f.starting_time, 'files.starting_time', file).nanoseconds_since_epoch, 'files.starting_time', file) : undefined,
      durationNs: f ? big(obj(f.duration, 'files.duration', file).nanoseconds, 'files.duration', file) : undefined,
      messageCount: f ? Number(f.message_count) : undefined,
    };
  });
  return {
    version,
    storage: str(info.storage_identifier),
    files,
    topics,
    messageCount: Number(info.message_count ?? 0),
    startNs: info.starting_time ? big(obj(info.starting_time, 'starting_time', file).nanoseconds_since_epoch, 'starting_time', file) : 0n,
    durationNs: info.duration ? big(obj(info.duration, 'duration', file).nanoseconds, 'duration', file) : 0n,
    compressionFormat: str(info.compression_format),
    compressionMode: str(info.compression_mode),
    rosDistro: str(info.ros_distro),
  };
}

export interface MetadataFileEntry {
  path: string;
  startNs: bigint;
  durationNs: bigint;
  messageCount: number;
}

export interface MetadataInput {
  storage: StorageId;
  files: MetadataFileEntry[];
  topics: BagTopic[];
  startNs: bigint;
  durationNs: bigint;
  messageCount: number;
  rosDistro?: string;
  /** Whole-file or per-message compression of what is written ('' / '': none). */
  compressionFormat?: string;
  compressionMode?: string;
}

/** metadata.yaml text, version 9 (what `ros2 bag` of Jazzy writes). */
export function formatMetadata(m: MetadataInput): string {
  const doc = {
    rosbag2_bagfile_information: {
      version: 9,
      storage_identifier: m.storage,
      duration: { nanoseconds: m.durationNs },
      starting_time: { nanoseconds_since_epoch: m.startNs },
      message_count: m.messageCount,
      topics_with_message_count: m.topics.map((t) => ({
        topic_metadata: {
          name: t.name,
          type: t.type,
          serialization_format: t.serializationFormat,
          offered_qos_profiles: qosProfiles(t.offeredQosProfiles).map(sortedKeys),
          type_description_hash: t.typeDescriptionHash ?? '',
        },
        message_count: t.messageCount,
      })),
      compression_format: m.compressionFormat ?? '',
      compression_mode: m.compressionMode ?? '',
      relative_file_paths: m.files.map((f) => f.path),
      files: m.files.map((f) => ({
        path: f.path,
        starting_time: { nanoseconds_since_epoch: f.startNs },
        duration: { nanoseconds: f.durationNs },
        message_count: f.messageCount,
      })),
      custom_data: null,
      ros_distro: m.rosDistro ?? '',
    },
  };
  return stringify(doc, { lineWidth: 0 });
}

/** BagInfo → metadata input, e.g. when converting or reindexing. */
export function metadataOf(info: BagInfo, files: MetadataFileEntry[]): MetadataInput {
  return {
    storage: info.storage,
    files,
    topics: info.topics,
    startNs: info.startNs,
    durationNs: info.durationNs,
    messageCount: info.messageCount,
    rosDistro: info.rosDistro,
  };
}
