import { describe, expect, it } from 'vitest';
import { makeMsg, DiagnosticStatusConstants as L, type diagnostic_msgs } from '../../msgs/index.js';
import { DiagnosticsRegistry } from '../../runtime/diagnostics.js';
import { SimClock } from '../../runtime/clock.js';
import { Container } from '../../runtime/container.js';
import type { NodeDefinition } from '../../runtime/node.js';
import type { ParamDecls } from '../../runtime/params.js';
import { overrides } from '../../test/support/arbiter.js';
import { buildReport, type ReportMemory } from './report.js';
import { diagnosticsNode } from './index.js';

const value = (s: diagnostic_msgs.DiagnosticStatus | undefined, key: string): string | undefined => s?.values.find((v) => v.key === key)?.value;

describe('diagnostics report', () => {
  it('per node and per stage: latency p50/p99/max, misses, drops, errors; levels from the last window', () => {
    const reg = new DiagnosticsRegistry();
    const d = reg.forNode('/perception');
    d.state = 'active';
    const st = d.stage('inference');
    for (let i = 1; i <= 100; i++) st.record(i);
    st.miss();
    st.drop(3);
    const mem: ReportMemory = new Map();
    const opts = (now: number) => ({ now, header: makeMsg('std_msgs/msg/Header', {}), staleAfterMs: 3000, hardwareId: 'kestrel' });
    let r = buildReport(reg.all(), mem, opts(1000));
    const node = r.status.find((s) => s.name === '/perception');
    const stage = r.status.find((s) => s.name === '/perception: inference');
    expect(stage?.level).toBe(L.WARN);
    expect(value(stage, 'latency_p50_ms')).toBe('50.000');
    expect(value(stage, 'latency_p99_ms')).toBe('99.000');
    expect(value(stage, 'latency_max_ms')).toBe('100.000');
    expect([value(stage, 'misses'), value(stage, 'drops'), value(stage, 'errors')]).toEqual(['1', '3', '0']);
    expect(node?.level).toBe(L.WARN);
    expect(value(node, 'state')).toBe('active');

    st.record(5);
    st.error(new Error('onnx: bad input shape [1,3,320,320], expected [1,3,640,640]'));
    r = buildReport(reg.all(), mem, opts(2000));
    expect(r.status.find((s) => s.name === '/perception: inference')?.level).toBe(L.ERROR);
    expect(r.status.find((s) => s.name === '/perception')?.message).toMatch(/bad input shape/);

    st.record(5);
    r = buildReport(reg.all(), mem, opts(3000)); // quiet window: back to OK
    expect(r.status.find((s) => s.name === '/perception')?.level).toBe(L.OK);

    r = buildReport(reg.all(), mem, opts(7000)); // nothing for 4 s: the node stopped reporting
    expect(r.status.find((s) => s.name === '/perception: inference')?.level).toBe(L.STALE);
    expect(r.status.find((s) => s.name === '/perception')?.level).toBe(L.STALE);

    d.set('error', 'silent: /detections');
    r = buildReport(reg.all(), mem, opts(7100));
    expect(r.status.find((s) => s.name === '/perception')?.level).toBe(L.STALE);
    d.state = 'inactive';
    reg.forNode('/idle');
    r = buildReport(reg.all(), mem, opts(7200));
    expect(r.status.find((s) => s.name === '/idle')).toMatchObject({ level: L.STALE, message: 'node unconfigured' });
  });

  it('the node publishes at its period from the container registry, and needs one', async () => {
    const clock = new SimClock(0);
    const c = new Container({ clock, registry: new Map([['diagnostics', diagnosticsNode as unknown as NodeDefinition<ParamDecls>]]), logSink: () => {} });
    const got: { at: number; n: number }[] = [];
    c.bus.subscribe('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray').subscribe((m) => got.push({ at: clock.now(), n: m.status.length }));
    await c.add({ package: 'kestrel', executable: 'diagnostics', params: overrides({ period_ms: 1000 }), remaps: [] });
    await c.activateAll();
    clock.advanceTo(3500);
    expect(got.map((g) => g.at)).toEqual([1000, 2000, 3000]);
    expect(got[0].n).toBe(1); // itself
    await c.shutdownAll();
  });
});
