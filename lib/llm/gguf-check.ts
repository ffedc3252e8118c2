/**
 * Checks a GGUF file before llama.cpp sees it, so a missing, truncated or foreign file
 * gives an error that says what and where instead of a native "failed to load model".
 */
import { openSync, readSync, closeSync, statSync } from 'node:fs';
import { readGgufFileInfo, type GgufFileInfo } from 'node-llama-cpp';

export class ModelFileError extends Error {
  constructor(readonly path: string, detail: string) {
    super(`model file '${path}': ${detail}`);
    this.name = 'ModelFileError';
  }
}

export class ModelTooLargeError extends Error {
  constructor(readonly path: string, readonly neededMb: number, readonly limitMb: number) {
    super(`model file '${path}': needs about ${neededMb.toFixed(0)} MB of memory (weights + context), above the configured max_memory_mb ${limitMb}`);
    this.name = 'ModelTooLargeError';
  }
}

// Bytes per block and elements per block of the ggml types a llama GGUF commonly holds.
const TYPE_SIZE: Record<number, [bytes: number, elems: number]> = {
  0: [4, 1], 1: [2, 1], 2: [18, 32], 3: [20, 32], 6: [22, 32], 7: [24, 32], 8: [34, 32],
  10: [84, 256], 11: [110, 256], 12: [144, 256], 13: [176, 256], 14: [210, 256], 15: [292, 256], 30: [2, 1],
};

export interface GgufSummary {
  info: GgufFileInfo;
  fileBytes: number;
  architecture: string;
  hasChatTemplate: boolean;
  /** `kestrel.prompt_format` ("kestrel-lm-1" for Kestrel's own model: LM-SPEC prompts and grammars). */
  promptFormat?: string;
  /** `kestrel.corpus_version`, `kestrel.tasks` of a Kestrel model. */
  corpusVersion?: string;
  tasks?: string;
}

/** Throws ModelFileError for a missing file, wrong magic, unsupported version, unreadable header, or tensor data past the end. */
export async function checkGguf(path: string): Promise<GgufSummary> {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new ModelFileError(path, 'is not a regular file');
    size = st.size;
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new ModelFileError(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); generate one with 'npx tsx models/gguf/gen.ts tiny Q4_0' or set model_path`);
  }
  if (size < 24) throw new ModelFileError(path, `is ${size} bytes, too short for a GGUF header (24 bytes)`);
  const head = Buffer.alloc(8);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 8, 0);
  } finally {
    closeSync(fd);
  }
  const magic = head.subarray(0, 4).toString('latin1');
  if (magic !== 'GGUF') throw new ModelFileError(path, `bad magic ${JSON.stringify(magic)} at offset 0, expected "GGUF"`);
  const version = head.readUInt32LE(4);
  if (version !== 2 && version !== 3) throw new ModelFileError(path, `GGUF version ${version} at offset 4, expected 2 or 3`);
  let info: GgufFileInfo;
  try {
    info = await readGgufFileInfo(path, { readTensorInfo: true, sourceType: 'filesystem', logWarnings: false });
  } catch (e) {
    throw new ModelFileError(path, `header unreadable (truncated or corrupt metadata): ${(e as Error).message}`);
  }
  for (const t of info.tensorInfo ?? []) {
    const start = Number(t.fileOffset);
    const ts = TYPE_SIZE[t.ggmlType];
    const n = t.dimensions.reduce<number>((a, d) => a * Number(d), 1);
    const end = ts ? start + (n / ts[1]) * ts[0] : start;
    if (end > size) {
      throw new ModelFileError(path, `truncated: tensor '${t.name}' ends at byte ${end} but the file has ${size} bytes`);
    }
  }
  const md = info.metadata as unknown as { general?: { architecture?: string }; tokenizer?: { chat_template?: string }; kestrel?: { prompt_format?: unknown; corpus_version?: unknown; tasks?: unknown } };
  const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
  return {
    info, fileBytes: size, architecture: md.general?.architecture ?? 'unknown', hasChatTemplate: typeof md.tokenizer?.chat_template === 'string',
    promptFormat: str(md.kestrel?.prompt_format), corpusVersion: str(md.kestrel?.corpus_version), tasks: str(md.kestrel?.tasks),
  };
}
