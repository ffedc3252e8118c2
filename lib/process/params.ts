/**
 * Parameters of an inference child, shared by the nodes that host a model (perception,
 * intent, planner): where the model runs and its CPU and memory budget. Each node gives its
 * own defaults (the LLM runs at a lower priority than perception; control stays at 0).
 */
import { p, type ParamDecl } from '../../runtime/params.js';
import type { SupervisorOptions } from './supervisor.js';
import { SCHED_POLICIES, type SchedPolicy } from './sched.js';

export type Isolation = 'process' | 'inprocess';

export interface ChildDefaults {
  nice: number;
  sched: SchedPolicy;
  memoryMb: number;
  heapMb?: number;
}

export function childParams(d: ChildDefaults) {
  return {
    isolation: p.string('process', "'process': the model runs in a supervised child process (a crash, hang or runaway memory there cannot stop this process); 'inprocess': in this process (tests, tiny boards)", ['process', 'inprocess']) as ParamDecl<'string'>,
    child_nice: p.int(d.nice, 'Nice value of the inference child, all its threads (0 = as the control process, 19 = lowest)', { min: 0, max: 19 }),
    child_sched: p.string(d.sched, "Linux scheduling policy of every thread of the inference child: 'other' (time sharing by nice only), 'batch' (never preempts a running thread when it wakes), 'idle' (runs only on CPU time no normal thread wants, and is preempted the moment the control thread wakes); a policy the kernel refuses fails configure", SCHED_POLICIES),
    child_memory_mb: p.int(d.memoryMb, 'RSS cap of the inference child in MB (native memory included): above it the child is killed and restarted; 0 = none', { min: 0 }),
    child_heap_mb: p.int(d.heapMb ?? 0, "JS heap cap of the child (--max-old-space-size) in MB; 0 = Node's default", { min: 0 }),
    child_heartbeat_timeout_ms: p.int(2000, 'No heartbeat from the child for this long (a hang, SIGSTOP) → kill and restart', { min: 100 }),
    child_restart_min_ms: p.int(200, 'First restart delay; doubles per consecutive failure', { min: 0 }),
    child_restart_max_ms: p.int(5000, 'Longest restart delay', { min: 0 }),
    child_start_timeout_ms: p.int(60_000, 'A start (spawn, ready, model load) taking longer is a failed start: raise it on a slow or saturated machine', { min: 1000 }),
    child_max_restarts: p.int(0, 'Give up after this many consecutive failed restarts (the node stays in error); 0 = never', { min: 0 }),
  };
}

export interface ChildParamValues {
  readonly child_nice: number;
  readonly child_sched: SchedPolicy;
  readonly child_memory_mb: number;
  readonly child_heap_mb: number;
  readonly child_heartbeat_timeout_ms: number;
  readonly child_restart_min_ms: number;
  readonly child_restart_max_ms: number;
  readonly child_max_restarts: number;
  readonly child_start_timeout_ms: number;
}

export function childOptions(v: ChildParamValues): Omit<SupervisorOptions, 'name' | 'entry' | 'init'> {
  return {
    nice: v.child_nice,
    sched: v.child_sched,
    memoryCapMb: v.child_memory_mb,
    heapMb: v.child_heap_mb,
    heartbeatMs: Math.max(20, Math.min(250, Math.floor(v.child_heartbeat_timeout_ms / 4))),
    heartbeatTimeoutMs: v.child_heartbeat_timeout_ms,
    startTimeoutMs: v.child_start_timeout_ms,
    restart: { initialMs: v.child_restart_min_ms, maxMs: Math.max(v.child_restart_min_ms, v.child_restart_max_ms), maxConsecutive: v.child_max_restarts },
  };
}
