import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jobContent, jobKey } from './key.js';
import { evalArgv, jobName, parseManifestText } from './manifest.js';

const tmp = mkdtempSync(join(tmpdir(), 'kestrel-manifest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('fleet manifest', () => {
  it('expands scenarios × seeds, bags (globs), latency models and device profiles into jobs with content keys', () => {
    mkdirSync(join(tmp, 'bags', 'b1'), { recursive: true });
    writeFileSync(join(tmp, 'bags', 'b1', 'metadata.yaml'), 'x: 1\n');
    writeFileSync(join(tmp, 'bags', 'b2.mcap'), 'not really mcap');
    writeFileSync(join(tmp, 'bags', 'notes.txt'), 'not a bag');
    writeFileSync(join(tmp, 'lat.json'), JSON.stringify({ description: 'a', stages: { inference: { fixed_ms: 40 } } }));
    const text = ['name: t', 'scenarios: [passport-queue, {name: stranded-bag, control: true, duration_s: 4}]', 'seeds: [1, 2]', "bags: ['bags/*']", 'latency: [lat.json]', 'device_profiles: [pi5, x86]', 'perception: oracle', 'duration_s: 3', "params: ['isolation:=inprocess']"].join('\n');
    const m = parseManifestText(text, join(tmp, 'fleet.yaml'));
    // (2 scenarios × 2 seeds + 2 bags) × 1 latency × 2 profiles.
    expect(m.specs).toHaveLength(12);
    expect(m.notes).toEqual([]);
    const names = m.specs.map(jobName);
    expect(names).toContain('stranded-bag-control/seed2/lat/pi5');
    expect(names).toContain('bag-b2/lat/x86');
    const s0 = m.specs[0];
    expect(evalArgv(s0)).toEqual(['passport-queue', '--seed', '1', '--duration', '3', '--perception', 'oracle', '--latency', join(tmp, 'lat.json'), '--device-profile', 'pi5', '--ros-args', '-p', 'isolation:=inprocess']);
    // Keys follow content: the same job is the same key; a re-described latency model is the same model; a changed bag is a new job.
    const keys = m.specs.map(jobKey);
    expect(new Set(keys).size).toBe(12);
    expect(jobKey(s0)).toBe(keys[0]);
    writeFileSync(join(tmp, 'lat.json'), JSON.stringify({ stages: { inference: { fixed_ms: 40 } }, description: 'other words' }, null, 2));
    expect(jobKey(s0)).toBe(keys[0]);
    const bagSpec = m.specs.find((s) => s.source.kind === 'bag' && s.source.path.endsWith('b2.mcap'));
    expect(bagSpec).toBeDefined();
    const before = jobKey(bagSpec!);
    writeFileSync(join(tmp, 'bags', 'b2.mcap'), 'other bytes');
    expect(jobKey(bagSpec!)).not.toBe(before);
    expect(jobContent(bagSpec!)).toMatchObject({ source: { kind: 'bag', bag_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  });

  it('bad manifests: file:line and the field', () => {
    const f = 'fleet.yaml';
    expect(() => parseManifestText('scenarios: [passport-queue]\nseeds: [1]\ndevice_profiles: [cray]\n', f)).toThrow(/^fleet\.yaml:3: device_profiles\.0: unknown device profile 'cray'/);
    expect(() => parseManifestText('scenarios: [passport-queue]\nseeds: [1.5]\n', f)).toThrow(/^fleet\.yaml:2: seeds\.0: expected an integer ≥ 0, got 1\.5/);
    expect(() => parseManifestText('scenarios: [passport-queue]\n', f)).toThrow(/seeds: scenarios need at least one seed/);
    expect(() => parseManifestText('scenarios: [passport-queue]\nseeds: [1]\nbogus: 1\n', f)).toThrow(/^fleet\.yaml:3: bogus: unknown field/);
    expect(() => parseManifestText('scenarios: [x\n', f)).toThrow(/^fleet\.yaml:\d+: invalid YAML/);
    expect(() => parseManifestText("bags: ['nowhere/*']\n", join(tmp, f))).toThrow(/no jobs/);
    expect(() => parseManifestText('scenarios: [passport-queue]\nseeds: [1]\nlatency: [missing.json]\n', join(tmp, f))).toThrow(/:3: latency\.0: no such latency model file/);
  });
});
