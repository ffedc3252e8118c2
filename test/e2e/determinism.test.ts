/**
 * Determinism: the same scenario, seed and latency model (a file, not 'measured') run twice
 * under virtual time give a byte-identical decision log, and the same eval JSON except what
 * is timed on the wall clock (run time, memory, the planner's TTFT and tokens/s). Real ONNX
 * perception and llama.cpp planner: their compute is charged by the latency model.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { io } from '../../cli/command.js';
import { runEval } from '../../cli/commands/eval.js';
import { deterministicPart } from '../../app/eval/evaluate.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('determinism under virtual time', () => {
  it('same scenario + seed + latency model twice → identical decision log and eval JSON', async () => {
    const err = io.err;
    io.err = () => undefined; // progress lines
    try {
      // A device fast enough for the planner to meet its deadline, so plans are in the log too.
      const base = mkdtempSync(join(tmpdir(), 'kestrel-det-'));
      dirs.push(base);
      const model = join(base, 'latency.json');
      writeFileSync(model, JSON.stringify({ stages: { inference: { fixed_ms: 30 }, generate: { fixed_ms: 100, per_unit_ms: 4 }, compile_llm: { fixed_ms: 10 } }, default_ms: 2 }));
      const runs = [];
      for (let i = 0; i < 2; i++) {
        const out = mkdtempSync(join(tmpdir(), 'kestrel-det-'));
        dirs.push(out);
        runs.push(await runEval(['passport-queue', '--duration', '10', '--seed', '7', '--perception', 'onnx', '--latency', model, '--out', out]));
      }
      const [a, b] = runs;
      const logA = readFileSync(join(a.dir, 'decisions.log'));
      const logB = readFileSync(join(b.dir, 'decisions.log'));
      expect(logA.length).toBeGreaterThan(1000);
      // Commands from 10 s at the arbiter's 20 Hz, and detections from real inference.
      expect(a.decisionLog.filter((l) => / cmd /.test(l)).length).toBeGreaterThan(150);
      expect(a.json.frames).toBeGreaterThan(40);
      // The llama.cpp planner meets its deadline under this model: its plans are compared too.
      expect(a.decisionLog.filter((l) => / plan /.test(l)).length).toBeGreaterThan(0);
      expect(logA.equals(logB)).toBe(true);
      expect(deterministicPart(b.json)).toEqual(deterministicPart(a.json));
      expect(a.json.source.seed).toBe(7);
    } finally {
      io.err = err;
    }
  });
});
