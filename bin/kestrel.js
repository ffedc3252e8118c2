#!/usr/bin/env node
// The `kestrel` command: the compiled CLI from dist/ (or the TypeScript sources; see load-main.js), then dispatch.
import { loadMain } from './load-main.js';

const main = await loadMain();
process.exitCode = await main(process.argv.slice(2));
