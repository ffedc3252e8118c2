/** Shared shapes of the rosbag2 reader, writer and player. Times are exact 64-bit nanoseconds. */

export type StorageId = 'mcap' | 'sqlite3';

export interface BagTopic {
  name: string;
  /** As written in the bag (`pkg/msg/Name`, sometimes `pkg/Name`). */
  type: string;
  serializationFormat: string;
  /** rosbag2 stores offered QoS as YAML text (older) or a list (v9); kept as given. */
  offeredQosProfiles: unknown;
  messageCount: number;
  typeDescriptionHash?: string;
}

export interface BagFileInfo {
  path: string;
  storage: StorageId;
  messageCount: number;
  startNs: bigint;
  endNs: bigint;
  sizeBytes: number;
  /** Chunk compression seen in the file (MCAP), e.g. ['zstd']; [] when none. */
  chunkCompression: string[];
  /** MCAP library string or sqlite schema version, for `bag info`. */
  library: string;
}

export interface BagInfo {
  path: string;
  /** rosbag2 metadata.yaml version, or undefined when reindexed (no metadata.yaml). */
  version: number | undefined;
  storage: StorageId;
  files: BagFileInfo[];
  topics: BagTopic[];
  messageCount: number;
  startNs: bigint;
  endNs: bigint;
  durationNs: bigint;
  sizeBytes: number;
  /** metadata.yaml `compression_format` / `compression_mode` (whole-file compression). */
  compressionFormat: string;
  compressionMode: string;
  rosDistro: string;
}

export interface BagMessage {
  topic: string;
  type: string;
  logTimeNs: bigint;
  publishTimeNs: bigint;
  data: Uint8Array;
  /** Index of the file in the bag and position within it: the stable tie-break of equal log times. */
  fileIndex: number;
  seq: number;
  /** Decodes the CDR payload with the bag's definition (else Kestrel's). Throws CdrDecodeError / UnknownTypeError. */
  decode(): unknown;
}

export type ProblemKind = 'truncated' | 'corrupt' | 'unknown-format' | 'reindexed' | 'metadata' | 'decode';

/** Something wrong with a bag, with where it is and what was lost. Reported, never thrown mid-replay. */
export interface BagProblem {
  kind: ProblemKind;
  file: string;
  /** Byte offset in the file where the damage starts, when known. */
  offset?: number;
  topic?: string;
  timeNs?: bigint;
  message: string;
}

export interface MessageFilter {
  topics?: readonly string[];
  /** Inclusive start, exclusive end, in bag log time (ns). */
  startNs?: bigint;
  endNs?: bigint;
}

/** A storage file decompressed to an unlinked temporary file (whole-file compression): read through `fd`. */
export interface Unpacked {
  fd: number;
  size: number;
}

export class BagError extends Error {
  constructor(readonly path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.name = 'BagError';
  }
}
