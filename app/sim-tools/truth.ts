/**
 * Prints a scenario's ground-truth timeline (event episodes) world-only, for the normal and
 * the control run, next to its expected alert windows: what a scenario author checks when
 * choosing windows.
 *
 *   npx tsx app/sim-tools/truth.ts passport-queue [--seed 12]
 */
import { parseArgs } from 'node:util';
import { describeWindow, loadScenario } from '../../sim/scenario.js';
import { createSimulator } from '../../sim/simulator.js';

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { seed: { type: 'string' } } });
  const name = positionals[0];
  if (!name) throw new Error('usage: truth.ts <scenario name or path> [--seed N]');
  const s = loadScenario(name);
  console.log(`${s.name} (${s.source}), ${s.duration_s} s, seed ${values.seed ?? s.seed}`);
  for (const e of s.expected) console.log(`  expected: ${e.event}${e.by ? ` by ${e.by}` : ''} must fire in ${describeWindow(e)}`);
  for (const control of [false, true]) {
    let sim;
    try {
      sim = createSimulator(name, { control, render: false, ...(values.seed ? { seed: Number(values.seed) } : {}) });
    } catch (e) {
      if (!control) throw e;
      console.log(`  control run: ${(e as Error).message}`);
      continue;
    }
    const lines: string[] = [];
    while (!sim.done) {
      const out = sim.tick();
      for (const e of out.events) if (out.t > sim.tickMs / 1000 + 1e-9 || e.active) lines.push(`    ${out.t.toFixed(2).padStart(7)} s  ${e.name} ${e.active ? 'ON ' : 'off'}  ${e.detail}`);
    }
    console.log(control ? `  control run (${sim.scenario.control_description}):` : '  run:');
    console.log(lines.length ? lines.join('\n') : '    no event became active');
    if (sim.world.warnings.length) console.log(`    script warnings: ${sim.world.warnings.join('; ')}`);
  }
}

try {
  main();
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
