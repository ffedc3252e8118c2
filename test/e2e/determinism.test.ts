/**
 * Determinism: the same scenario, seed and latency model (a file, not 'measured') run twice
 * under virtual time give a byte-identical decision log, and the same eval JSON except what
 * is timed on the wall clock (run time, memory, the planner's TTFT and tokens/s). Real ONNX
 * perception and llama.cpp planner: their compute is charged by the latency model.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { io } from '../../cli/command.js';
import { runEval } from '../../cli/commands/eval.js';
import { deterministicPart } from '../../lib/eval/evaluate.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('determinism under virtual time', () => {
  it('same scenario + seed + latency model twice → identical decision log and eval JSON', async () => {
    const err = io.err;
    io.err = () => undefined; // progress lines
    try {
      const runs = [];
      for (let i = 0; i < 2; i++) {
        const out = mkdtempSync(join(tmpdir(), 'kestrel-det-'));
        dirs.push(out);
        runs.push(await runEval(['passport-queue', '--duration', '14', '--seed', '7', '--perception', 'onnx', '--latency', 'config/latency/pi5.json', '--out', out]));
      }
      const [a, b] = runs;
      const logA = readFileSync(join(a.dir, 'decisions.log'));
      const logB = readFileSync(join(b.dir, 'decisions.log'));
      expect(logA.length).toBeGreaterThan(1000);
      // Commands from 14 s at the arbiter's 20 Hz, and detections from real inference.
      expect(a.decisionLog.filter((l) => / cmd /.test(l)).length).toBeGreaterThan(200);
      expect(a.json.frames).toBeGreaterThan(50);
      expect(logA.equals(logB)).toBe(true);
      expect(deterministicPart(b.json)).toEqual(deterministicPart(a.json));
      expect(a.json.source.seed).toBe(7);
    } finally {
      io.err = err;
    }
  });
});
