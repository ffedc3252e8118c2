/** The Plan JSON the model must produce, derived from kestrel_msgs/msg/Plan, and its conversion to the message. */
import { makeMsg, type kestrel_msgs } from '../../msgs/index.js';
import { numberLiteral, type JsonShape } from '../../lib/llm/grammar.js';
import type { GenerationResult } from '../../lib/llm/engine.js';
import { msToTime, timeToMs, type Time } from '../../runtime/time.js';
import type { SituationPlaces } from './situation.js';

export interface PlanFields {
  action: string;
  target: { x: number; y: number; z: number };
  speed: number;
  radius: number;
  track_id: number;
  reason: string;
}

export const REASON_MAX = 60;

/**
 * Bounds: ±10 km horizontally, ±1 km vertically, 100 m/s, 1 km radius; the arbiter's envelope is tighter.
 * With `places` (grounded decoding) the target is one of the places the situation lists, x and y together
 * (the vehicle itself, or a listed track at the vehicle's altitude), and track_id is 0 or a listed track: the
 * model chooses where, it cannot invent a coordinate or an id. Speed and radius stay free (they are policy).
 * With `reasons` (reasons.ts: situationReasons) the reason is one of the sentences true of the situation.
 */
export function planShape(actions: readonly string[], places?: SituationPlaces, reasons?: readonly string[]): JsonShape {
  const coord = (m: number): JsonShape => ({ type: 'number', minimum: -m, maximum: m, decimals: 1 });
  const here = places?.vehicle;
  return {
    type: 'object',
    properties: {
      action: { type: 'string', enum: actions },
      target: places && here
        ? { type: 'literal', values: [here, ...places.tracks.map((t) => ({ x: t.x, y: t.y, z: here.z }))] }
        : { type: 'object', properties: { x: coord(9999.9), y: coord(9999.9), z: coord(999.9) } },
      speed: { type: 'number', minimum: 0, maximum: 99.9, decimals: 1 },
      radius: { type: 'number', minimum: 0, maximum: 999.9, decimals: 1 },
      track_id: places ? { type: 'number', enum: [0, ...places.tracks.map((t) => t.id)] } : { type: 'integer', minimum: 0, maximum: 99999 },
      reason: reasons && reasons.length > 0 ? { type: 'string', enum: reasons } : { type: 'string', maxLength: REASON_MAX },
    },
  };
}

const num1 = numberLiteral;

/** The compact JSON the GBNF grammar of planShape emits (keys in order, at most one decimal). */
export function formatPlan(f: PlanFields): string {
  const t = f.target;
  return `{"action":${JSON.stringify(f.action)},"target":{"x":${num1(t.x)},"y":${num1(t.y)},"z":${num1(t.z)}},"speed":${num1(f.speed)},"radius":${num1(f.radius)},"track_id":${Math.round(f.track_id)},"reason":${JSON.stringify(f.reason)}}`;
}

export function toPlanMsg(f: PlanFields, stamp: Time, validityS: number, g: GenerationResult, frameId = 'map'): kestrel_msgs.Plan {
  return makeMsg('kestrel_msgs/msg/Plan', {
    header: { stamp, frame_id: frameId },
    action: f.action,
    target: f.target,
    speed: f.speed,
    radius: f.radius,
    track_id: f.track_id,
    reason: f.reason,
    valid_until: msToTime(timeToMs(stamp) + validityS * 1000),
    prompt_tokens: g.promptTokens,
    completion_tokens: g.completionTokens,
    ttft_ms: g.ttftMs,
    generation_ms: g.totalMs,
  });
}

/** One plan per allowed action with neutral values (lookup decoding's memory: the keys the grammar forces). */
export function planSkeletons(actions: readonly string[]): string[] {
  return actions.map((action) => formatPlan({ action, target: { x: 0, y: 0, z: 0 }, speed: 0, radius: 0, track_id: 0, reason: '' }));
}
