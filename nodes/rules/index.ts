/**
 * rules: evaluates the installed RuleSet on every /world update and publishes every active
 * alert on /alerts (stamp = world stamp). No LLM on this path: pure, deterministic evaluation.
 * A RuleSet that fails validation is refused and the previous rules stay installed.
 */
import { makeMsg } from '../../msgs/index.js';
import { defineNode, topicDoc } from '../../runtime/node.js';
import { p } from '../../runtime/params.js';
import { validateRules, type Rule } from '../../lib/rules/dsl.js';
import { evaluateRules, INITIAL_STATE, type EvalState } from '../../lib/rules/evaluate.js';

export const rulesNode = defineNode({
  name: 'rules',
  description: 'Evaluates compiled operator rules (count, dwell, unattended, proximity) on every /world update and publishes /alerts',
  params: {
    log_changes: p.bool(true, 'Log each alert raise/clear'),
  },
  subscribes: [
    topicDoc('/world', 'Fused world state; each update is evaluated'),
    topicDoc('/rules', 'Compiled rules (latched); invalid sets are refused'),
  ],
  publishes: [topicDoc('/alerts', 'Every active alert, on every world update')],
  create(ctx, params) {
    const pub = ctx.advertise('/alerts');
    const evalStage = ctx.diag.stage('evaluate');
    const installStage = ctx.diag.stage('install');
    let rules: readonly Rule[] = [];
    let state: EvalState = INITIAL_STATE;
    ctx.diag.values.rules = '0';

    return {
      activate() {
        const onRules = ctx.subscribe('/rules').subscribe((rs) => {
          const check = validateRules(rs.rules);
          if (!check.ok) {
            installStage.error(new Error(`RuleSet v${rs.version} refused: ${check.errors.join('; ')}`));
            ctx.log.warn(`refusing RuleSet v${rs.version} (keeping ${rules.length} installed rules): ${check.errors.join('; ')}`);
            ctx.diag.set('warn', `last RuleSet refused: ${check.errors[0]}`);
            return;
          }
          rules = rs.rules;
          state = INITIAL_STATE;
          installStage.record(0);
          ctx.diag.values.rules = String(rules.length);
          ctx.diag.values.rules_version = String(rs.version);
          ctx.diag.set('ok', `${rules.length} rules installed (v${rs.version})`);
          ctx.log.info(`installed ${rules.length} rules (v${rs.version}): ${rules.map((r) => `${r.id}: ${r.message}`).join('; ')}`);
        });
        const onWorld = ctx.subscribe('/world').subscribe((w) => {
          const t0 = ctx.clock.now();
          try {
            const r = evaluateRules(rules, w, state);
            state = r.state;
            if (r.reset) ctx.log.warn('world stamp went backwards: rule timers restarted');
            if (params.log_changes) for (const c of r.changed) ctx.log.info(`alert ${c.rule_id} ${c.active ? 'raised' : 'cleared'}`);
            pub.publish(makeMsg('kestrel_msgs/msg/AlertArray', { header: w.header, alerts: r.alerts }));
            ctx.diag.values.active_alerts = String(r.alerts.length);
            evalStage.record(ctx.clock.now() - t0);
          } catch (e) {
            // A malformed world message must not end the subscription.
            evalStage.error(e);
          }
        });
        return [onRules, onWorld];
      },
    };
  },
});

export default rulesNode;
