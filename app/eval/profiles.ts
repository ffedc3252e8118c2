/**
 * Device power profiles for energy estimates. These are published/typical figures, not
 * measurements: every energy number derived from them is labelled an estimate. Where the
 * platform exposes a real power or energy counter (Intel RAPL, Jetson INA3221), eval reads it too.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface DeviceProfile {
  name: string;
  description: string;
  /** Whole-board power at idle and with the CPU busy on inference, watts. */
  idle_w: number;
  active_w: number;
  /** How much slower this device computes than the reference x86 here (scales measured latencies). */
  compute_scale: number;
  source: string;
}

export const DEVICE_PROFILES: Record<string, DeviceProfile> = {
  x86: {
    name: 'x86',
    description: 'x86-64 development host (this machine class)',
    idle_w: 10,
    active_w: 35,
    compute_scale: 1,
    source: 'typical 2-core cloud/desktop share; assumption',
  },
  pi5: {
    name: 'pi5',
    description: 'Raspberry Pi 5 (4× Cortex-A76, 2.4 GHz), CPU inference',
    idle_w: 2.7,
    active_w: 7.0,
    compute_scale: 2.5,
    source: 'Raspberry Pi 5 product brief and public load measurements (≈2.7 W idle, ≈7 W all cores)',
  },
  'orin-nano': {
    name: 'orin-nano',
    description: 'Jetson Orin Nano 8 GB, 15 W mode, CPU inference',
    idle_w: 4.5,
    active_w: 11,
    compute_scale: 1.8,
    source: 'NVIDIA Jetson Orin Nano module data sheet power modes; assumption for CPU-only load',
  },
};

export function deviceProfile(name: string): DeviceProfile {
  const p = DEVICE_PROFILES[name];
  if (!p) throw new Error(`unknown device profile '${name}'; known: ${Object.keys(DEVICE_PROFILES).join(', ')}`);
  return p;
}

/** Energy of `computeMs` of work above idle, millijoules (estimate). */
export function energyMj(p: DeviceProfile, computeMs: number): number {
  return (p.active_w - p.idle_w) * computeMs;
}

/** Reads a real energy counter where one is exposed (microjoules), else undefined. */
export function readEnergyCounterUj(): { source: string; uj: number } | undefined {
  const rapl = '/sys/class/powercap/intel-rapl:0/energy_uj';
  try {
    if (existsSync(rapl)) return { source: rapl, uj: Number(readFileSync(rapl, 'utf8').trim()) };
  } catch {
    // unreadable (permissions in containers): no real counter
  }
  return undefined;
}
