import { describe, expect, it } from 'vitest';
import { formatNumber, formatRuleSet, intentPrompt, REFUSAL } from './lm-prompt.js';
import { parseOutput } from '../llm/grammar.js';
import { ruleSetShape, type RuleFields } from './dsl.js';
import { kestrelPlannerSystem } from '../../nodes/planner/situation.js';
import { formatPlan } from '../../nodes/planner/plan.js';

const R: RuleFields = { kind: 'unattended', class_id: 'bag', region: '', op: '>', threshold: 0, duration_s: 30, radius_m: 3, companion_class: 'person', hysteresis: 0.5, severity: 'warning', reaction: 'none' };

describe('Kestrel LM text format (LM-SPEC)', () => {
  it('intent prompt: vocabulary in the order given, "none" without regions, text collapsed', () => {
    expect(intentPrompt({ classes: ['person', 'bag', 'vehicle'], regions: ['queue', 'concourse'] }, '  alert  me\n if more than 10 people ')).toEqual({
      system: 'classes: person, bag, vehicle\nregions: queue, concourse\n',
      user: 'intent: alert me if more than 10 people\n',
    });
    expect(intentPrompt({ classes: ['bag'], regions: [] }, 'x').system).toBe('classes: bag\nregions: none\n');
  });

  it('rule sets as the grammar writes them: compact, keys in order, one decimal, no .0', () => {
    const s = formatRuleSet([R, { ...R, kind: 'count', threshold: 12, radius_m: 2.25, hysteresis: 1 }]);
    expect(s).toBe('{"rules":[{"kind":"unattended","class_id":"bag","region":"","op":">","threshold":0,"duration_s":30,"radius_m":3,"companion_class":"person","hysteresis":0.5,"severity":"warning","reaction":"none"},{"kind":"count","class_id":"bag","region":"","op":">","threshold":12,"duration_s":30,"radius_m":2.3,"companion_class":"person","hysteresis":1,"severity":"warning","reaction":"none"}]}');
    expect(parseOutput(s, ruleSetShape({ classes: ['bag', 'person'], regions: [] }))).toBeTruthy();
    expect(REFUSAL).toBe('{"rules":[]}');
    expect(() => parseOutput(REFUSAL, ruleSetShape({ classes: ['bag'], regions: [] }))).toThrow(/0 items|expected 1/);
    expect(parseOutput(REFUSAL, ruleSetShape({ classes: ['bag'], regions: [] }, { minItems: 0 }))).toEqual({ rules: [] });
    expect([formatNumber(-0.04), formatNumber(2), formatNumber(0.75), formatNumber(119.96)]).toEqual(['0', '2', '0.8', '120']);
  });

  it('planner prefix and plan JSON', () => {
    expect(kestrelPlannerSystem('Watch  the queue.\n', ['hold', 'orbit'])).toBe('mission: Watch the queue.\nactions: hold, orbit\n');
    expect(formatPlan({ action: 'orbit', target: { x: 12.34, y: -4.5, z: 20 }, speed: 3, radius: 8, track_id: 17, reason: 'orbit #17: unattended bag' }))
      .toBe('{"action":"orbit","target":{"x":12.3,"y":-4.5,"z":20},"speed":3,"radius":8,"track_id":17,"reason":"orbit #17: unattended bag"}');
  });
});
