/**
 * ProcessLlmEngine on the tiny random GGUF in a real child process: the same greedy text as the
 * in-process engine, aborts, load errors kept by class, a SIGKILL mid-generation (clear error,
 * the next call waits for the restart and gets the same answer), the memory cap refusing a load.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { LlmEngine, ModelFileError, ModelTooLargeError, type JsonShape } from './index.js';
import { ProcessLlmEngine, warmPrefixOrLoss } from './process-engine.js';
import { ChildLostError } from '../process/supervisor.js';
import { tinyConfig } from '../../test/support/llm.js';

const SHAPE: JsonShape = { type: 'object', properties: { action: { type: 'string', enum: ['hold', 'goto', 'land'] }, reason: { type: 'string', maxLength: 60 } } };
const P = { system: 'You are the planner of a drone. Answer with one JSON plan.', user: 'Situation: two people at the gate. Plan: ' };

describe('ProcessLlmEngine', () => {
  const engines: { dispose(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.dispose()));
  });

  it('generates what the in-process engine generates, aborts, and survives a SIGKILL of its child', async () => {
    const local = await LlmEngine.load(tinyConfig());
    engines.push(local);
    const want = await local.generate(P, { grammar: await local.createGrammar(SHAPE), maxTokens: 40 });

    const eng = await ProcessLlmEngine.load(tinyConfig(), { restart: { initialMs: 50 } });
    engines.push(eng);
    const grammar = await eng.createGrammar(SHAPE);
    expect(await eng.warmPrefix(P.system)).toBeGreaterThan(5);
    const got = await eng.generate(P, { grammar, maxTokens: 40 });
    expect(got.text).toBe(want.text);
    expect(got.completionTokens).toBe(want.completionTokens);
    expect(got.reusedTokens).toBeGreaterThan(5);
    // A released grammar is gone from the child (and from what a restart replays).
    const once = await eng.createGrammar(SHAPE);
    await eng.releaseGrammar(once);
    await expect(eng.generate(P, { grammar: once, maxTokens: 4 })).rejects.toThrow(/has no grammar/);
    // An in-process grammar is refused with a clear error.
    await expect(eng.generate(P, { grammar: await local.createGrammar(SHAPE), maxTokens: 4 })).rejects.toThrow(/not created by this engine/);

    // Abort: rejects with the caller's reason once the child has stopped.
    const ac = new AbortController();
    const reason = new Error('deadline');
    const aborted = eng.generate(P, { maxTokens: 100_000, signal: ac.signal });
    setTimeout(() => ac.abort(reason), 50);
    await expect(aborted).rejects.toBe(reason);
    await eng.idle();
    expect(eng.busy).toBe(false);

    // SIGKILL mid-generation: a clear error now; the next call waits for the restart (setup replayed).
    const pid = eng.supervisor.pid as number;
    const long = eng.generate(P, { maxTokens: 100_000 });
    setTimeout(() => process.kill(pid, 'SIGKILL'), 50);
    await expect(long).rejects.toBeInstanceOf(ChildLostError);
    await expect(long).rejects.toThrow(/child process lost \(killed by SIGKILL/);
    const t0 = performance.now();
    const again = await eng.generate(P, { grammar, maxTokens: 40 });
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(eng.supervisor.pid).not.toBe(pid);
    expect(again.text).toBe(want.text);
    expect(again.reusedTokens).toBeGreaterThan(5); // the warmed prefix was replayed in the new child
  });

  it('a child lost during setup (grammar, warm) is restarted and the setup made again; a warm on a failed child is a reported loss, not a throw', async () => {
    const eng = await ProcessLlmEngine.load(tinyConfig(), { restart: { initialMs: 50, maxConsecutive: 2 } });
    engines.push(eng);
    const sup = eng.supervisor;
    // Killed while the request is in flight (stopped first, so it cannot answer): the call still resolves, on the next child.
    const pid1 = sup.pid as number;
    process.kill(pid1, 'SIGSTOP');
    const grammar = eng.createGrammar(SHAPE);
    process.kill(pid1, 'SIGKILL');
    const g = await grammar;
    expect(sup.restarts).toBe(1);
    const pid2 = sup.pid as number;
    process.kill(pid2, 'SIGSTOP');
    const warm = eng.warmPrefix(P.system);
    process.kill(pid2, 'SIGKILL');
    expect(await warm).toBeGreaterThan(5);
    expect(sup.restarts).toBe(2);
    expect((await eng.generate(P, { grammar: g, maxTokens: 8 })).reusedTokens).toBeGreaterThan(5);
    // A third loss in a row with maxConsecutive 2: the supervisor gives up; warming reports it.
    process.kill(sup.pid as number, 'SIGKILL');
    await new Promise<void>((r) => sup.onState((e) => e.state === 'failed' && r()));
    const w = await warmPrefixOrLoss(eng, P.system);
    expect(w).toMatchObject({ lost: expect.stringMatching(/not ready \(failed: .*gave up after 2 consecutive restarts/) as unknown });
  });

  it('keeps load errors by class, and refuses a model that does not fit under the child memory cap', async () => {
    await expect(ProcessLlmEngine.load(tinyConfig({ modelPath: '/no/such.gguf' }))).rejects.toThrow(ModelFileError);
    await expect(ProcessLlmEngine.load(tinyConfig({ maxMemoryMb: 1 }))).rejects.toThrow(ModelTooLargeError);
    await expect(ProcessLlmEngine.load(tinyConfig({ contextSize: 131072 }), { memoryCapMb: 250 })).rejects.toThrow(/above the \d+ MB left under the child's child_memory_mb 250/);
  });
});
