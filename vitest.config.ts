import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{runtime,nodes,msgs,sim,models,launch,lib,app,cli,bench,test}/**/*.test.ts'],
    // Real serial ptys, ONNX sessions and llama.cpp contexts: keep the machine's 2 cores from being oversubscribed.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
