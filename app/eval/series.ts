/**
 * Per-stage time series for the report: polled from the diagnostics registry once per
 * second of run time, each poll keeps what happened since the last one (new latency
 * samples' p50 and max, new deadline misses and drops). The registry keeps only totals
 * and a sliding window, so without this the report could not say *when* a stage was slow.
 */
import type { DiagnosticsRegistry } from '../../runtime/diagnostics.js';
import { percentile } from '../../runtime/diagnostics.js';

export interface StagePoint {
  t: number;
  /** Samples recorded in this interval. */
  n: number;
  /** p50 and max latency of this interval's samples (ms); null when none. */
  p50: number | null;
  max: number | null;
  misses: number;
  drops: number;
}

export class StageSeries {
  readonly points = new Map<string, StagePoint[]>();
  private readonly prev = new Map<string, { count: number; misses: number; drops: number }>();

  constructor(private readonly registry: DiagnosticsRegistry) {}

  /** Records the interval ending at `t` (seconds of run time). */
  poll(t: number): void {
    const samples = this.registry.samples();
    for (const st of this.registry.all().flatMap((d) => d.stages)) {
      const p = this.prev.get(st.name) ?? { count: 0, misses: 0, drops: 0 };
      const n = st.count - p.count;
      const win = samples[st.name] ?? [];
      // The newest n samples of the window (fewer when more than a window's worth came in one interval).
      const fresh = n > 0 ? win.slice(Math.max(0, win.length - n)).sort((a, b) => a - b) : [];
      const pt: StagePoint = {
        t,
        n,
        p50: fresh.length ? percentile(fresh, 0.5) : null,
        max: fresh.length ? fresh[fresh.length - 1] : null,
        misses: st.misses - p.misses,
        drops: st.drops - p.drops,
      };
      this.prev.set(st.name, { count: st.count, misses: st.misses, drops: st.drops });
      let arr = this.points.get(st.name);
      if (!arr) this.points.set(st.name, (arr = []));
      arr.push(pt);
    }
  }

  toJSON(): Record<string, StagePoint[]> {
    return Object.fromEntries(this.points);
  }
}
