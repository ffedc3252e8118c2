/**
 * rosbag2 `metadata.yaml`, versions 4 to 9: parse into exact values (nanoseconds as bigint),
 * and write the version `ros2 bag` of Jazzy reads (8). Pure functions over text.
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

function obj(v: unknown, where: string, file: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BagError(file, `${where}: expected a mapping, got ${JSON.stringify(v)}`);
  return v as Obj;
}

function big(v: unknown, where: string, file: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new BagError(file, `${where}: expected an integer, got ${JSON.stringify(v)}`);
}

function str(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

export function parseMetadata(text: string, file = 'metadata.yaml'): ParsedMetadata {
  // intAsBigInt: nanosecond stamps exceed 2^53 and must stay exact.
  const doc = parseDocument(text, { intAsBigInt: true });
  if (doc.errors.length > 0) throw new BagError(file, `invalid YAML: ${doc.errors[0].message}`);
  const root = obj(doc.toJS(), 'document', file);
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
      offeredQosProfiles: tm.offered_qos_profiles ?? '',
      messageCount: Number(tw.message_count ?? 0),
      typeDescriptionHash: tm.type_description_hash === undefined ? undefined : str(tm.type_description_hash),
    };
  });
  const rel = Array.isArray(info.relative_file_paths) ? info.relative_file_paths.map(str) : [];
  const filesRaw = Array.isArray(info.files) ? info.files : [];
  const files = rel.map((path) => {
    const f = filesRaw.map((x) => x as Obj).find((x) => str(x.path) === path);
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
}

/** metadata.yaml text, version 8 (what `ros2 bag` of Jazzy writes, and Humble onwards reads). */
export function formatMetadata(m: MetadataInput): string {
  const doc = {
    rosbag2_bagfile_information: {
      version: 8,
      storage_identifier: m.storage,
      duration: { nanoseconds: m.durationNs },
      starting_time: { nanoseconds_since_epoch: m.startNs },
      message_count: m.messageCount,
      topics_with_message_count: m.topics.map((t) => ({
        topic_metadata: {
          name: t.name,
          type: t.type,
          serialization_format: t.serializationFormat,
          offered_qos_profiles: typeof t.offeredQosProfiles === 'string' ? t.offeredQosProfiles : '',
          type_description_hash: t.typeDescriptionHash ?? '',
        },
        message_count: t.messageCount,
      })),
      compression_format: '',
      compression_mode: '',
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
