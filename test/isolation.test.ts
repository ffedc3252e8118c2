/**
 * The control loop outlives the models, in the live reference mission (system clock, real
 * child processes, the tiny random GGUF, kestrel-det, an MCAP recording): SIGKILL the
 * perception child and the LLM child mid-run, later SIGSTOP the perception child.
 * - the mission completes (runMission returns) and the arbiter keeps ticking throughout;
 * - the arbiter falls back at its first tick after /detections is silent past its watchdog;
 * - perception is back within RESTART_BOUND_MS; the stopped child is found by the heartbeat
 *   watchdog, killed and restarted; the LLM child is back and the planner plans again;
 * - every /cmd published from the kill on is in the recording.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMission } from '../app/mission/run.js';
import { openBag } from '../lib/bag/reader.js';
import { supervisors, type Supervisor } from '../lib/process/supervisor.js';
import { timeToMs } from '../runtime/time.js';

const TICK_MS = 50; // arbiter rate_hz 20 (config/drone_mission.params.yaml)
const SILENT_MS = 400 * 2; // arbiter watch_periods_ms [400] × watch_k 2 (set below)
/** Perception child restart bound: backoff 200 ms + spawn + ONNX session load, on a loaded 2-core VM. */
const RESTART_BOUND_MS = 15_000;

const find = (part: string): Supervisor | undefined => supervisors().find((s) => s.name.includes(part));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('process isolation in the live mission', () => {
  it('SIGKILL of the perception and LLM children, then SIGSTOP of perception: the mission completes, falls back, restarts, records everything', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kestrel-isolation-')), 'bag');
    const cmds: { t: number; source: string; stamp: number }[] = [];
    const dets: number[] = [];
    let plansAfterLlmBack = 0;
    let llmBackAt: number | undefined;
    const stop = new AbortController();
    const story: Record<string, number> = {};
    const events: string[] = [];

    const script = async (): Promise<void> => {
      while (cmds.length === 0 || !find('detector') || !find('LLM')) {
        if (stop.signal.aborted) return;
        await sleep(50);
      }
      await sleep(1500);
      const det = find('detector') as Supervisor;
      const llm = find('LLM') as Supervisor;
      const t0 = performance.now();
      for (const sup of [det, llm]) sup.onState((e) => events.push(`${((performance.now() - t0) / 1000).toFixed(2)}s ${e.name} ${e.state} ${e.reason}${e.retryInMs !== undefined ? ` retry ${e.retryInMs}` : ''}`));
      story.lastDetBeforeKill = dets[dets.length - 1] ?? Number.NaN;
      story.killAt = performance.now();
      process.kill(det.pid as number, 'SIGKILL');
      process.kill(llm.pid as number, 'SIGKILL');
      while (det.restarts < 1 || det.state !== 'ready') await sleep(20);
      story.detBackMs = performance.now() - story.killAt;
      await sleep(1000);
      story.stopAt = performance.now();
      process.kill(det.pid as number, 'SIGSTOP');
      while (det.restarts < 2 || det.state !== 'ready') await sleep(20);
      story.stopDetectedAndBackMs = performance.now() - story.stopAt;
      while (llm.state !== 'ready') await sleep(50);
      llmBackAt = performance.now();
      story.llmBackMs = llmBackAt - story.killAt;
      while (plansAfterLlmBack < 1) await sleep(50);
      await sleep(500);
      stop.abort();
    };

    const scripted = script();
    const r = await runMission({
      scenario: 'passport-queue',
      mode: 'live',
      durationS: 120,
      fcLink: 'memory',
      recordDir: dir,
      signal: stop.signal,
      logSink: () => undefined,
      // intent by patterns only: the LLM child then hosts the planner's engine alone (a shorter restart here).
      params: { arbiter: { watch_k: 2 }, intent: { compiler: 'patterns' } },
      onBus: (bus) => {
        bus.subscribe('/cmd', 'kestrel_msgs/msg/VehicleCommand').subscribe((c) => cmds.push({ t: performance.now(), source: c.source, stamp: timeToMs(c.header.stamp) }));
        bus.subscribe('/detections', 'vision_msgs/msg/Detection2DArray').subscribe(() => dets.push(performance.now()));
        bus.subscribe('/plan', 'kestrel_msgs/msg/Plan').subscribe(() => {
          if (llmBackAt !== undefined) plansAfterLlmBack++;
        });
      },
    });
    await scripted;
    console.log(events.join('\n'));
    expect(stop.signal.aborted).toBe(true); // the script ran to its end (every restart happened)

    // The arbiter ticked throughout: no gap near the outage beyond a few ticks (timer lateness on a shared VM).
    const after = cmds.filter((c) => c.t >= story.killAt - 1000);
    const gaps = after.slice(1).map((c, i) => c.t - after[i].t);
    const maxGap = Math.max(...gaps);
    const spanS = (after[after.length - 1].t - after[0].t) / 1000;
    console.log(`isolation: ${after.length} commands over ${spanS.toFixed(1)} s from 1 s before the kill, max gap ${maxGap.toFixed(0)} ms; perception back in ${story.detBackMs.toFixed(0)} ms, SIGSTOP found and back in ${story.stopDetectedAndBackMs.toFixed(0)} ms, LLM back in ${story.llmBackMs.toFixed(0)} ms`);
    expect(maxGap).toBeLessThan(20 * TICK_MS);
    expect(after.length).toBeGreaterThan(0.5 * (spanS * 1000) / TICK_MS);

    // Fallback at the first tick after the watchdog's silence deadline.
    const silentAt = story.lastDetBeforeKill + SILENT_MS;
    const firstFallback = cmds.find((c) => c.t >= story.killAt && c.source === 'fallback');
    expect(firstFallback).toBeDefined();
    const fallbackDelay = (firstFallback as { t: number }).t - silentAt;
    console.log(`isolation: first fallback ${fallbackDelay.toFixed(0)} ms after /detections went silent past the watchdog (${SILENT_MS} ms)`);
    // Only when the restart outlasted the watchdog's window is there a gap to cover: an idle machine can
    // restart the child within the window itself, and then the first fallback is the SIGSTOP phase's.
    if (story.killAt + story.detBackMs > silentAt + TICK_MS) {
      // One tick, plus the timer lateness of this process measured in the same run (the largest gap
      // between commands beyond one tick): on a shared 2-core VM a timer can be hundreds of ms late.
      expect(fallbackDelay).toBeLessThanOrEqual(TICK_MS + Math.max(100, maxGap - TICK_MS));
      // The fallback covered the gap: it came before perception was back.
      expect((firstFallback as { t: number }).t).toBeLessThan(story.killAt + story.detBackMs);
    }

    expect(story.detBackMs).toBeLessThan(RESTART_BOUND_MS);
    const perception = r.diagnostics.find((d) => d.node === '/perception');
    expect(perception?.values['child.restarts']).toBe('2');
    expect(perception?.values['child.last_loss']).toMatch(/hang: no heartbeat/);
    expect(Number(perception?.values['errors.child_down'] ?? 0) + (perception?.stages.find((s) => s.name === '/perception/inference')?.drops ?? 0)).toBeGreaterThan(0);
    const planner = r.diagnostics.find((d) => d.node === '/planner');
    expect(Number(planner?.values['child.restarts'])).toBeGreaterThanOrEqual(1);
    expect(r.statesAtEnd['/planner']).toBe('active');

    // The recorder (in the control process) kept everything: each /cmd from 1 s before the kill to 1 s before the end.
    const bag = await openBag(dir);
    const recorded = new Set<number>();
    for (const m of bag.messagesSync()) if (m.topic === '/cmd') recorded.add(timeToMs((m.decode() as { header: { stamp: { sec: number; nanosec: number } } }).header.stamp));
    const end = cmds[cmds.length - 1].t - 1000;
    const want = cmds.filter((c) => c.t >= story.killAt - 1000 && c.t <= end);
    expect(want.length).toBeGreaterThan(20);
    expect(want.filter((c) => !recorded.has(c.stamp))).toEqual([]);
  }, 180_000);
});
