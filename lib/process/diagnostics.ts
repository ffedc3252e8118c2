/**
 * A child's state in its owning node's /diagnostics, as ROS 2-style lifecycle transitions:
 * child lost → the node reports level error and state 'inactive' with the reason (its model
 * is gone; what it publishes stops); ready again → back to the state it had ('active'), level
 * ok. Values `<prefix>.state|pid|restarts|last_loss|down_ms|rss_mb` keep the history.
 */
import type { NodeDiagnostics } from '../../runtime/diagnostics.js';
import type { Logger } from '../../runtime/log.js';
import type { StateEvent, Supervisor } from './supervisor.js';

export function bindChildDiagnostics(sup: Supervisor, diag: NodeDiagnostics, log?: Logger, prefix = 'child'): () => void {
  const v = diag.values;
  let before: string | undefined;
  let lost = 0;
  const on = (e: StateEvent): void => {
    v[`${prefix}.state`] = e.state;
    v[`${prefix}.pid`] = String(e.pid ?? '');
    v[`${prefix}.restarts`] = String(e.restarts);
    v[`${prefix}.rss_mb`] = sup.lastRssMb.toFixed(0);
    v[`${prefix}.peak_rss_mb`] = sup.peakRssMb.toFixed(0);
    if (e.state === 'backoff' || e.state === 'failed') {
      lost++;
      v[`${prefix}.losses`] = String(lost);
      v[`${prefix}.last_loss`] = e.reason;
      if (before === undefined && diag.state !== 'inactive') before = diag.state;
      diag.state = 'inactive';
      const next = e.state === 'failed' ? 'not restarting' : `restart in ${e.retryInMs ?? 0} ms`;
      diag.set('error', `${sup.name} lost: ${e.reason}; ${next}`);
      log?.error(`${sup.name} lost: ${e.reason}; ${next}`);
    } else if (e.state === 'ready' && e.downMs !== undefined) {
      v[`${prefix}.down_ms`] = e.downMs.toFixed(0);
      if (before !== undefined && diag.state === 'inactive') diag.state = before;
      before = undefined;
      diag.set('ok', `${sup.name} restarted (pid ${e.pid}) after ${e.downMs.toFixed(0)} ms down`);
      log?.info(`${sup.name} restarted (pid ${e.pid}) after ${e.downMs.toFixed(0)} ms down`);
    }
  };
  return sup.onState(on);
}
