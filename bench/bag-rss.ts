/**
 * Child process of the replay bench: reads (and decodes) every message of one bag, or only
 * imports the reader (`--baseline`), and prints its peak RSS, so that the memory a read takes
 * is measured apart from everything else the bench holds.
 */
import { compressionReady } from '../lib/bag/compression.js';
import { decompressHandlers } from '../lib/bag/mcap-file.js';
import { openBag } from '../lib/bag/reader.js';

const [path, mode] = process.argv.slice(2);
let n = 0;
// The decoders load on first need (wasm-zstd's memory is tens of MB): loaded here in both children, so
// that the difference is what reading takes, not what loading the decoders takes.
await decompressHandlers();
await compressionReady();
if (mode !== '--baseline') {
  const bag = await openBag(path);
  for (const m of bag.messagesSync()) {
    m.decode();
    n++;
  }
}
process.stdout.write(JSON.stringify({ messages: n, max_rss_bytes: process.resourceUsage().maxRSS * 1024 }));
