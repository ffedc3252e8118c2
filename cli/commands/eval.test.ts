import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMission } from '../../app/mission/run.js';
import { captureOutput } from '../command.js';
import { main } from '../main.js';
import { EXIT_NOT_MET, loadLatencyModel } from './eval.js';

const tmp = mkdtempSync(join(tmpdir(), 'kestrel-eval-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function kestrel(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return captureOutput(() => main(['eval', ...argv]));
}

type Json = Record<string, unknown> & {
  alerts: { precision: number; recall: number; expected: { event: string; ok: boolean; first_alert_s: number | null }[] };
  stages: { name: string; p50_ms: number; p99_ms: number; max_ms: number; deadline_misses: number; drops: number }[];
  energy: Record<string, unknown>;
  planner: Record<string, unknown>;
  wall: { peak_rss_mb: number; wall_s: number };
};

describe('kestrel eval', () => {
  it('a short scenario run writes eval.json, report.html and decisions.log with the documented fields', async () => {
    const out = join(tmp, 'scn');
    const r = await kestrel('passport-queue', '--duration', '20', '--perception', 'oracle', '--latency', 'config/latency/pi5.json', '--device-profile', 'pi5', '--out', out);
    expect(r.err).not.toMatch(/ERROR/);
    // 20 s ends before the queue passes 10 (about 37 s in): the run completes, the report says it
    // was missed, and the exit status says so too (a CI gate fails).
    expect(r.code).toBe(EXIT_NOT_MET);
    expect(r.out).toContain('NOT met: queue_over_10');
    const j = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as Json;
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['source', 'latency_model', 'device_profile', 'stages', 'totals', 'e2e_age_ms', 'alerts', 'reactions', 'planner', 'energy', 'wall', 'passed']));
    expect(j.passed).toBe(false);
    expect(j.alerts.expected[0]).toMatchObject({ event: 'queue_over_10', ok: false, first_alert_s: null });
    const arb = j.stages.find((s) => s.name === '/arbiter/e2e');
    expect(arb).toBeDefined();
    expect(arb?.p99_ms).toBeGreaterThanOrEqual(arb?.p50_ms ?? Infinity);
    expect(j.e2e_age_ms).toMatchObject({ count: expect.any(Number), p50: expect.any(Number), p99: expect.any(Number) });
    expect(j.energy).toMatchObject({ profile: 'pi5', note: expect.stringMatching(/ESTIMATE/), run_energy_estimate_j: expect.any(Number) });
    expect(Object.keys(j.energy).filter((k) => k.endsWith('_j'))).toEqual(expect.arrayContaining(['inference_energy_estimate_j', 'run_energy_estimate_j']));
    expect(j.planner).toHaveProperty('tokens_per_s');
    expect(j.planner).toHaveProperty('ttft_ms');
    expect(j.wall.peak_rss_mb).toBeGreaterThan(10);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    // One offline file: uPlot and the data embedded, plots drawn in the page (test/report-browser.test.ts
    // renders it in chromium); nothing is loaded from anywhere else.
    for (const id of ['timeline', 'commands', 'e2e', 'stages', 'map', 'energy']) expect(html).toContain(`id="${id}"`);
    expect(html).toContain('uPlot');
    expect(html).not.toMatch(/<script[^>]*\ssrc=|<link[^>]*\shref=|<img[^>]*\ssrc=["']?https?:/);
    const log = readFileSync(join(out, 'decisions.log'), 'utf8');
    expect(log).toMatch(/^0\.\d{3} rules v1 r1_1:count:person:queue:>10$/m);
    expect(log).toMatch(/ cmd \d+ takeoff mission /);
  });

  it('evaluates a bag recorded without frames only with --perception oracle, scoring the recorded ground truth', async () => {
    const bag = join(tmp, 'bag');
    await runMission({ scenario: 'stranded-bag', durationS: 12, mode: 'virtual', perception: 'oracle', recordDir: bag, logSink: () => undefined });
    const out = join(tmp, 'bagout');
    // No frames and no --perception: a clear error, never a silent switch to the oracle.
    const silent = await kestrel(bag, '--out', out);
    expect(silent.code).toBe(1);
    expect(silent.err).toMatch(/needs camera frames .*--perception oracle/);
    const r = await kestrel(bag, '--perception', 'oracle', '--latency', 'config/latency/pi5.json', '--out', out);
    expect(r.err).toMatch(/PERCEPTION oracle: ground-truth/);
    expect(r.out).toMatch(/PERCEPTION oracle/);
    // 12 s of stranded-bag end before the bag is alone for 30 s (about 48 s): completed, expectation not met.
    expect(r.code).toBe(EXIT_NOT_MET);
    expect(r.out).toContain('NOT met: bag_unattended_30s');
    const j = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as Json & { source: { kind: string; name: string; perception: string } };
    expect(j.source).toMatchObject({ kind: 'bag', name: 'stranded-bag', perception: 'oracle' });
    expect(j.stages.find((s) => s.name === '/tracker/track')).toBeDefined();
    expect(readFileSync(join(out, 'decisions.log'), 'utf8')).toMatch(/ rules v1 .*unattended/);
    // A bag without frames cannot feed the ONNX detector: a clear error, exit 1.
    const bad = await kestrel(bag, '--perception', 'onnx', '--out', out);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/needs camera frames/);
  });

  it('re-runs the real detector on the JPEG frames a mission recording holds, and says so', async () => {
    const bag = join(tmp, 'bag-frames');
    await runMission({ scenario: 'passport-queue', durationS: 6, mode: 'virtual', perception: 'onnx', recordDir: bag, logSink: () => undefined });
    const out = join(tmp, 'bag-frames-out');
    const r = await kestrel(bag, '--latency', 'config/latency/pi5.json', '--out', out);
    expect(r.err).toMatch(/PERCEPTION onnx: models\/detector\/kestrel-det\.onnx on \d+ recorded JPEG frames \(\/camera\/image_raw\/compressed\)/);
    const j = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as Json & { source: { perception: string }; frames: number; detections: number; notes: string[] };
    expect(j.source.perception).toBe('onnx');
    // 6 s at 5 Hz: ~30 frames recorded and detected again (people are in view from the start).
    expect(j.frames).toBeGreaterThan(20);
    expect(j.detections).toBeGreaterThan(j.frames);
    expect(j.notes.join('\n')).toMatch(/\/camera\/image_raw\/compressed \d+/);
  });

  it('bad input: clear errors with exit codes (2 usage, 1 errors)', async () => {
    expect((await kestrel()).code).toBe(2);
    const flag = await kestrel('passport-queue', '--bogus');
    expect(flag.code).toBe(2);
    expect(flag.err).toContain("unknown option '--bogus'");
    expect((await kestrel('passport-queue', '--device-profile', 'cray')).err).toContain("unknown --device-profile 'cray'");
    expect((await kestrel('passport-queue', '--duration', '-3')).code).toBe(2);
    expect((await kestrel('passport-queue', '--latency', join(tmp, 'missing.json'))).code).toBe(2);
    const scen = await kestrel('no-such-scenario', '--out', join(tmp, 'x'));
    expect(scen.code).toBe(1);
    expect(scen.err).toMatch(/no-such-scenario/);
    const lat = join(tmp, 'bad-latency.json');
    writeFileSync(lat, JSON.stringify({ stages: { inference: { fixed_ms: -1 } } }));
    const badLat = await kestrel('passport-queue', '--latency', lat, '--out', join(tmp, 'y'));
    expect(badLat.code).toBe(1);
    expect(badLat.err).toContain('stages.inference.fixed_ms: expected a number ≥ 0, got -1');
    expect(existsSync(join(tmp, 'y', 'eval.json'))).toBe(false);
  });

  it('exits 0 when every expectation is met, and --help documents the exit status', async () => {
    const r = await kestrel('stranded-bag', '--control', '--duration', '8', '--perception', 'oracle', '--latency', 'config/latency/pi5.json', '--out', join(tmp, 'ok'));
    // A control run with no alert meets its expectation (no alert may fire) even when cut short.
    expect(r.out).toContain('expectations: all met');
    expect(r.code).toBe(0);
    const help = await kestrel('--help');
    expect(help.out + help.err).toMatch(/3 when the run completed but an expectation was NOT\s+met/);
  });

  it('the example latency model loads', () => {
    const m = loadLatencyModel('config/latency/pi5.json');
    expect(m).toMatchObject({ mode: 'model', stages: { inference: { fixed_ms: expect.any(Number) } } });
  });
});
