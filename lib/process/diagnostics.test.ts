/** A child's loss and return as lifecycle transitions of its owning node's diagnostics (real child process). */
import { describe, expect, it } from 'vitest';
import { NodeDiagnostics } from '../../runtime/diagnostics.js';
import { bindChildDiagnostics } from './diagnostics.js';
import { Supervisor, siblingEntry } from './supervisor.js';

describe('bindChildDiagnostics', () => {
  it('child lost → node inactive, level error, with the reason; restarted → active again, level ok', async () => {
    const sup = new Supervisor({ name: 'test child', entry: siblingEntry(import.meta.url, 'test-host'), restart: { initialMs: 300 } });
    const diag = new NodeDiagnostics('/perception');
    const seen: string[] = [];
    bindChildDiagnostics(sup, diag);
    sup.onState(() => seen.push(`${diag.state}/${diag.level}`));
    await sup.start();
    diag.state = 'active'; // the node's own activation
    process.kill(sup.pid as number, 'SIGKILL');
    await new Promise<void>((r) => sup.onState((e) => e.state === 'backoff' && r()));
    expect(diag.state).toBe('inactive');
    expect(diag.level).toBe('error');
    expect(diag.message).toBe('test child lost: killed by SIGKILL; restart in 300 ms');
    expect(diag.values['child.last_loss']).toBe('killed by SIGKILL');
    await sup.whenReady();
    expect(diag.state).toBe('active');
    expect(diag.level).toBe('ok');
    expect(diag.message).toMatch(/^test child restarted \(pid \d+\) after \d+ ms down$/);
    expect(diag.values).toMatchObject({ 'child.state': 'ready', 'child.restarts': '1', 'child.losses': '1' });
    expect(Number(diag.values['child.down_ms'])).toBeGreaterThanOrEqual(300);
    expect(seen).toContain('inactive/error');
    await sup.stop();
  });
});
