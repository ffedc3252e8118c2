/**
 * Per-stage counters behind /diagnostics: latency (p50/p99/max over a sliding window),
 * deadline misses, drops and errors. Nodes record; the diagnostics node publishes.
 */
export type Level = 'ok' | 'warn' | 'error' | 'stale';

export interface StageSnapshot {
  name: string;
  count: number;
  p50: number;
  p99: number;
  max: number;
  misses: number;
  drops: number;
  errors: number;
  lastError?: string;
}

export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export class StageStats {
  private readonly window: Float64Array;
  private next = 0;
  private filled = 0;
  count = 0;
  max = 0;
  misses = 0;
  drops = 0;
  errors = 0;
  lastError: string | undefined;

  constructor(readonly name: string, windowSize = 1024) {
    this.window = new Float64Array(windowSize);
  }

  record(latencyMs: number): void {
    this.window[this.next] = latencyMs;
    this.next = (this.next + 1) % this.window.length;
    this.filled = Math.min(this.filled + 1, this.window.length);
    this.count++;
    if (latencyMs > this.max) this.max = latencyMs;
  }

  miss(): void {
    this.misses++;
  }

  drop(n = 1): void {
    this.drops += n;
  }

  error(e: unknown): void {
    this.errors++;
    this.lastError = e instanceof Error ? e.message : String(e);
  }

  /** The latencies in the sliding window, oldest first (for histograms). */
  samples(): number[] {
    const n = this.window.length;
    if (this.filled < n) return Array.from(this.window.subarray(0, this.filled));
    return [...this.window.subarray(this.next), ...this.window.subarray(0, this.next)];
  }

  snapshot(): StageSnapshot {
    // A typed copy sorts numerically without a comparator call per comparison (every stage, every publication).
    const sorted = this.window.slice(0, this.filled).sort();
    return {
      name: this.name,
      count: this.count,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: this.max,
      misses: this.misses,
      drops: this.drops,
      errors: this.errors,
      lastError: this.lastError,
    };
  }
}

export interface NodeStatus {
  node: string;
  level: Level;
  message: string;
  state: string;
  stages: StageSnapshot[];
  values: Record<string, string>;
}

/** Diagnostics of one node: its stages, its status line, free-form key/values. */
export class NodeDiagnostics {
  private readonly stages = new Map<string, StageStats>();
  level: Level = 'ok';
  message = '';
  state = 'unconfigured';
  readonly values: Record<string, string> = {};

  constructor(readonly node: string) {}

  stage(name: string): StageStats {
    let s = this.stages.get(name);
    if (!s) {
      s = new StageStats(`${this.node}/${name}`);
      this.stages.set(name, s);
    }
    return s;
  }

  set(level: Level, message: string): void {
    this.level = level;
    this.message = message;
  }

  /** Latency samples of each stage, keyed by the stage's full name (`node/stage`). */
  samples(): Record<string, number[]> {
    return Object.fromEntries([...this.stages.values()].map((s) => [s.name, s.samples()]));
  }

  status(): NodeStatus {
    return {
      node: this.node,
      level: this.level,
      message: this.message,
      state: this.state,
      stages: [...this.stages.values()].map((s) => s.snapshot()),
      values: { ...this.values },
    };
  }
}

/** All nodes of one process. */
export class DiagnosticsRegistry {
  private readonly nodes = new Map<string, NodeDiagnostics>();

  forNode(node: string): NodeDiagnostics {
    let d = this.nodes.get(node);
    if (!d) {
      d = new NodeDiagnostics(node);
      this.nodes.set(node, d);
    }
    return d;
  }

  /** Latency samples of every stage of every node (`node/stage` → ms). */
  samples(): Record<string, number[]> {
    return Object.assign({}, ...[...this.nodes.values()].map((d) => d.samples())) as Record<string, number[]>;
  }

  all(): NodeStatus[] {
    return [...this.nodes.values()].map((d) => d.status());
  }
}
