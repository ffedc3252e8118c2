/** rosbag2 bags (MCAP and sqlite3): read, write, convert, replay. */
export { openBag, Bag, compareMessages, UnsupportedFormatError, DefinitionMismatchError } from './reader.js';
export { createBagWriter, type BagWriter, type BagWriterOptions, type ChunkCompression, type TopicOptions } from './writer.js';
export { replay, bagStartMs, type ReplayOptions, type ReplayReport, type ReplayProgress, type DroppedMessage } from './replay.js';
export { convertBag, type ConvertOptions, type ConvertResult } from './convert.js';
export { parseMetadata, formatMetadata, qosProfiles, qosText, type QosProfile } from './metadata.js';
export { typeDescriptionHash, TypeHashError } from './type-hash.js';
export { exactNowNs, noteExactTime } from './exact-time.js';
export * from './types.js';
