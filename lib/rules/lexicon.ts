/**
 * How operators name things (LM-SPEC lexicons): class synonyms, number words, units,
 * comparatives, severity and reaction cues, region references. One table for the corpus
 * generator (models/lm/corpus, which speaks with these words) and the grounding check
 * (grounding.ts, which traces every compiled field back to them), so the two cannot drift.
 * Pure data and small pure functions.
 */

export interface ClassWords {
  singular: readonly string[];
  plural: readonly string[];
  /** "anyone", "someone": a single unspecified member (count > 0). */
  indefinite: readonly string[];
  /** "nobody", "no one": count == 0. */
  negative: readonly string[];
}

/** Synonyms of the classes the spec names; any other class is spoken as its id (+s). */
export const CLASS_WORDS: Readonly<Record<string, ClassWords>> = {
  person: {
    singular: ['person', 'passenger', 'pedestrian', 'human', 'visitor', 'traveller', 'traveler', 'individual', 'intruder', 'trespasser', 'worker'],
    plural: ['people', 'persons', 'passengers', 'folks', 'ppl', 'pedestrians', 'humans', 'visitors', 'travellers', 'travelers', 'individuals', 'intruders', 'trespassers', 'workers'],
    indefinite: ['anyone', 'someone', 'somebody', 'anybody'],
    negative: ['nobody', 'no one'],
  },
  bag: {
    singular: ['bag', 'suitcase', 'backpack', 'rucksack', 'parcel', 'package', 'holdall'],
    plural: ['bags', 'luggage', 'suitcases', 'backpacks', 'rucksacks', 'parcels', 'packages', 'baggage', 'holdalls'],
    indefinite: [],
    negative: [],
  },
  vehicle: {
    singular: ['vehicle', 'car', 'cart', 'truck', 'van', 'bus', 'lorry'],
    plural: ['vehicles', 'cars', 'carts', 'trucks', 'vans', 'buses', 'lorries'],
    indefinite: [],
    negative: [],
  },
  bicycle: { singular: ['bicycle', 'bike'], plural: ['bicycles', 'bikes'], indefinite: [], negative: [] },
};

/** Object classes a deployment may have beyond person, bag and vehicle (the corpus draws from these). */
export const EXTRA_CLASSES = ['bicycle', 'dog', 'drone', 'forklift', 'scooter', 'stroller', 'horse', 'boat', 'wheelchair', 'motorcycle', 'cat', 'bird', 'trailer'];

export function classWords(cls: string): ClassWords {
  return CLASS_WORDS[cls] ?? { singular: [cls], plural: [/(s|x|ch|sh)$/.test(cls) ? `${cls}es` : `${cls}s`], indefinite: [], negative: [] };
}

/** Every word that names the class (lower case). */
export function allClassWords(cls: string): string[] {
  const w = classWords(cls);
  return [...w.singular, ...w.plural, ...w.indefinite, ...w.negative];
}

export const NUMBER_WORDS: Readonly<Record<string, number>> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19, twenty: 20,
  thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90, hundred: 100,
};

/** Vague quantities with the value the spec gives them (longest phrase first when matching). */
export const VAGUE_NUMBERS: Readonly<Record<string, number>> = {
  'half a dozen': 6, 'a dozen': 12, 'a couple of': 2, 'a couple': 2, 'a few': 3, 'a handful of': 5, 'a handful': 5,
  'a hundred': 100, 'one hundred': 100,
};

/** Whole spoken durations (seconds). */
export const SPECIAL_DURATIONS: Readonly<Record<string, number>> = {
  'half a minute': 30, 'a minute': 60, 'one minute': 60, 'a couple of minutes': 120, 'an hour': 3600, 'one hour': 3600, 'half an hour': 1800,
  'a quarter of an hour': 900, 'quarter of an hour': 900, 'a quarter hour': 900, 'quarter hour': 900, 'three quarters of an hour': 2700,
  'a minute and a half': 90, 'one and a half minutes': 90, 'an hour and a half': 5400, 'one and a half hours': 5400,
};
export const SPECIAL_DISTANCES: Readonly<Record<string, number>> = { 'a metre': 1, 'a meter': 1, 'one metre': 1, 'one meter': 1 };

/** Unit words → factor to seconds / metres. */
export const TIME_UNITS: Readonly<Record<string, number>> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
};
export const DISTANCE_UNITS: Readonly<Record<string, number>> = { m: 1, metre: 1, metres: 1, meter: 1, meters: 1 };

/**
 * Comparatives of a count. `before`: the cue stands before the number ("more than 10");
 * `after`: after it ("10 or more").
 */
export const OP_CUES: Readonly<Record<string, { before: readonly string[]; after: readonly string[] }>> = {
  '>': { before: ['more than', 'over', 'above', 'exceeds', 'exceed', 'greater than', 'beyond', 'goes over', 'goes above', 'goes beyond', 'is more than', 'is greater than', 'is above', 'is over', 'rises above', 'gets above', 'gets over', 'climbs above', 'exceeding', 'is higher than', 'higher than'], after: [] },
  '>=': { before: ['at least', 'reaches', 'reach', 'hits', 'hit', 'as soon as there are', 'as soon as there is', 'is at least', 'no fewer than', 'no less than', 'gets to', 'reaching'], after: ['or more'] },
  '<': { before: ['fewer than', 'less than', 'below', 'drops below', 'under', 'falls below', 'falls under', 'goes below', 'is below', 'is less than', 'is under', 'dips below', 'is fewer than'], after: [] },
  '<=': { before: ['at most', 'no more than', 'is at most', 'is no more than', 'not more than'], after: ['or fewer', 'or less'] },
  '==': { before: ['exactly', 'is exactly', 'precisely'], after: [] },
};
/** Count == 0 without a number: "no people", "nobody", "empty". */
export const ZERO_CUES: readonly string[] = ['no', 'nobody', 'no one', 'none', 'empty', 'zero', 'not a single'];
/** Count > 0 without a number: "anyone", "any car", "an X appears". */
export const ANY_CUES: readonly string[] = ['any', 'anyone', 'anybody', 'someone', 'somebody', 'appears', 'shows up', 'enters', 'a', 'an', 'one'];

export const SEVERITY_CUES: Readonly<Record<'critical' | 'info', readonly string[]>> = {
  critical: ['critical', 'urgent', 'urgently', 'emergency', 'high priority', 'asap', 'immediately', 'alarm'],
  info: ['info', 'fyi', 'for information', 'just log', 'note it', 'low priority'],
};

export const REACTION_CUES: Readonly<Record<'hold' | 'track' | 'orbit' | 'rtl' | 'land', readonly string[]>> = {
  hold: ['hover', 'hold', 'hold position', 'stop', 'stay put'],
  track: ['follow', 'track', 'tail', 'keep eyes on'],
  orbit: ['circle', 'orbit', 'loiter over'],
  rtl: ['come home', 'return home', 'return to base', 'rtl', 'head back', 'go home', 'fly home'],
  land: ['land', 'set down', 'touch down', 'set the drone down', 'set it down'],
};

/** Phrases that say which kind of rule is meant (beyond a count's comparatives). */
export const KIND_CUES: Readonly<Record<'dwell' | 'unattended' | 'proximity', readonly string[]>> = {
  dwell: ['hangs around', 'hang around', 'hanging around', 'loiters', 'loiter', 'loitering', 'stays', 'stay', 'staying', 'lingers', 'linger', 'lingering', 'waits', 'wait', 'waiting', 'stands', 'stand', 'standing', 'remains', 'remain', 'remaining', 'hangs out', 'hang out', 'hanging out', 'parks', 'park', 'parked', 'sit', 'idle', 'spends', 'spend', 'is still', 'are still', 'has been', 'have been', 'idles', 'idling', 'sits', 'sitting'],
  unattended: ['unattended', 'abandoned', 'stranded', 'left alone', 'left behind', 'nobody near', 'no one near', 'nobody around', 'no one around', 'no owner', 'no person within', 'walks away', 'leaves', 'left', 'without its owner', 'without an owner', 'owner', 'nobody within', 'no one within', 'with no', 'unclaimed'],
  proximity: ['within', 'closer than', 'approaches', 'approach', 'approaching', 'near', 'close to', 'too close', 'less than', 'inside', 'nearer than'],
};

/**
 * Cues that name a rule kind outright: a text that says one is carried by a rule of that kind ("abandoned
 * luggage ... for a minute" is no count of bags). Weaker cues ("stays", "left", "near") also say other
 * things and are not required. Checked against every corpus compile and both hand-written sets' labels.
 */
export const KIND_STRONG_CUES: Readonly<Record<'dwell' | 'unattended', readonly string[]>> = {
  dwell: ['loiter', 'loiters', 'loitering', 'loiterer', 'loiterers', 'linger', 'lingers', 'lingering', 'hang around', 'hangs around', 'hanging around', 'hang round', 'hangs round', 'hanging round'],
  unattended: ['unattended', 'abandoned', 'stranded', 'left alone', 'left behind', 'unclaimed', 'no owner', 'without its owner', 'without an owner'],
};

/**
 * Words operators use that the corpus does not speak (slang, shorthand): the grounding check
 * accepts them too, so a model that generalises to them is not refused. Not used by the
 * generator.
 */
export const GROUNDING_EXTRA = {
  classes: {
    person: ['crowd', 'crowds', 'crowded', 'crowding', 'pax', 'bods', 'punters', 'guys', 'men', 'women', 'man', 'woman', 'kids', 'children', 'child', 'staff', 'loiterer', 'loiterers', 'on foot', 'occupants', 'walkers', 'joggers', 'runners', 'customers', 'shoppers', 'commuters', 'fans', 'spectators', 'guests', 'rammed', 'packed'],
    vehicle: ['cab', 'cabs', 'taxi', 'taxis', 'suv', 'suvs', 'pickup', 'pickups', 'coach', 'coaches', 'minibus', 'automobile', 'automobiles', 'motor', 'motors', 'hgv', 'hgvs', 'lorrys'],
    bag: ['case', 'cases', 'box', 'boxes', 'bin bag', 'belongings', 'item', 'items', 'carry on', 'duffel', 'duffle', 'tote', 'briefcase', 'briefcases'],
    bicycle: ['cycle', 'cycles', 'push bike', 'push bikes'],
  } as Readonly<Record<string, readonly string[]>>,
  /**
   * Objects no class list of the corpus holds, in the plural only (a singular is often a modifier: "the train
   * platform", "the bus bay"): an intent about them must refuse, not be read as some class it has.
   */
  otherObjects: {
    train: 'trains', tram: 'trams', plane: 'planes', aeroplane: 'aeroplanes', airplane: 'airplanes', helicopter: 'helicopters',
    tractor: 'tractors', container: 'containers', pallet: 'pallets', skateboard: 'skateboards', kayak: 'kayaks',
    animal: 'animals', cow: 'cows', goat: 'goats', fox: 'foxes', pigeon: 'pigeons', gull: 'gulls', seagull: 'seagulls', rat: 'rats',
  } as Readonly<Record<string, string>>,
  /** None there, said as a state ("the ticket hall empties out"): count == 0 cues beside ZERO_CUES. */
  zero: ['empties', 'empties out', 'emptied', 'empty out', 'clears out', 'cleared out', 'deserted', 'vacant'] as readonly string[],
  /** Comparatives: before the number ("goes past 25"), after it ("50 plus", from "50+"). */
  ops: {
    '>': { before: ['past', 'goes past', 'more then', 'in excess of', 'upwards of', 'tops', 'crosses', 'passes', 'more than about', 'over about', 'above about'], after: [] },
    '>=': { before: ['at or above', 'minimum of', 'not less than', 'not fewer than', 'a minimum of', 'min'], after: ['plus', 'or above', 'or over', 'or higher', 'and up', 'and above'] },
    '<': { before: ['fewer then', 'less then', 'lower than', 'drops under', 'goes under'], after: [] },
    '<=': { before: ['at or below', 'maximum of', 'a maximum of', 'up to', 'max'], after: ['or below', 'or under', 'or lower', 'max', 'at most'] },
    '==': { before: ['equals', 'equal to', 'exactly at'], after: ['exactly'] },
  } as Readonly<Record<string, { before: readonly string[]; after: readonly string[] }>>,
  severity: {
    critical: ['crit', 'high prio', 'priority one', 'top priority', 'red alert'],
    info: ['log only', 'log it', 'only log', 'for the record', 'low prio', 'logging only', 'no alarm', 'no need to alert', 'just record', 'note only', 'informational'],
  } as Readonly<Record<string, readonly string[]>>,
  kinds: {
    dwell: ['been', 'hanging about', 'hang about', 'hangs about', 'hanging round', 'hangs round', 'hang round', 'dawdling', 'dawdles', 'dawdle', 'loiterer', 'loiterers', 'idle', 'idling', 'sat', 'lurking', 'lurks', 'lurk', 'camping', 'hovering around', 'stuck', 'overstays', 'overstaying'],
    unattended: ['unaccompanied', 'forgotten', 'lost', 'dumped', 'orphaned', 'alone', 'nobody with', 'no one with', 'ownerless', 'on its own', 'by itself'],
    proximity: ['closer', 'nearer', 'approach', 'close', 'comes up to', 'gets to within', 'buzzes', 'towards'],
  } as Readonly<Record<string, readonly string[]>>,
  reactions: {
    hold: ['hold still', 'freeze', 'pause', 'halt'],
    track: ['shadow', 'chase', 'keep an eye on'],
    orbit: ['circle around', 'circle round', 'loiter above', 'orbit around'],
    rtl: ['back to base', 'go back home', 'return to home', 'return to launch', 'bring it home', 'rth'],
    land: ['put down', 'come down', 'get down'],
  } as Readonly<Record<string, readonly string[]>>,
};

/**
 * The single words the lexicon speaks with (numbers, units, class words, cues): a typo must not turn a word into
 * one of them (the corpus), and a word that is one of them is not read as a typo of another ("track" is a
 * reaction, not a misspelt "truck": the grounding).
 */
export function lexiconWords(): Set<string> {
  return new Set([
    ...Object.keys(NUMBER_WORDS), ...Object.keys(TIME_UNITS), ...Object.keys(DISTANCE_UNITS), ...Object.keys(CLASS_WORDS).flatMap(allClassWords),
    ...Object.values(REACTION_CUES).flat(), ...Object.values(SEVERITY_CUES).flat(), ...Object.values(KIND_CUES).flat(),
    ...Object.values(OP_CUES).flatMap((c) => [...c.before, ...c.after]), ...ZERO_CUES, ...ANY_CUES,
  ].flatMap((p) => p.split(' ')));
}

/**
 * Instructions aimed at Kestrel itself, not at what to watch ("ignore previous rules", "system override"):
 * an intent that carries one is refused whole, so an injection cannot ride in on a real monitoring clause.
 * A `verbs` word followed within four words by an `objects` phrase, or a `phrases` entry on its own.
 * Objects are what a prompt is made of, never something a camera sees ("ignore the bags" is an intent).
 */
export const INSTRUCTION_CUES = {
  verbs: ['ignore', 'disregard', 'forget', 'override', 'bypass'],
  objects: ['rules', 'instructions', 'instruction', 'vocabulary', 'prompt', 'orders', 'constraints', 'limits', 'guidelines', 'restrictions', 'grammar', 'programming', 'geofence', 'everything above', 'the above'],
  phrases: ['system override', 'admin override', 'developer mode', 'maintenance mode', 'debug mode', 'admin mode', 'god mode', 'new instructions', 'you are now', 'pretend you are', 'pretend to be', 'system prompt', 'jailbreak'],
} as const;

/** What "the drone" is called in proximity intents. */
export const SELF_WORDS: readonly string[] = ['the drone', 'us', 'me', 'the uav', 'the aircraft', 'kestrel', 'our drone', 'the vehicle', 'the robot'];

// --- Regions -----------------------------------------------------------------------------

export interface RegionConcept {
  /** Exclusive group: a vocabulary holds one concept per group, except parametric siblings. */
  group: string;
  id: string;
  /** Natural references (lower case), e.g. "the east platform". */
  refs: readonly string[];
  /** Prepositions that fit ("on the platform", "at gate 3"). */
  preps: readonly string[];
  /** A numbered/lettered sibling (gate_3, zone_b): several of one group may share a deployment. */
  param: boolean;
}

const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];
const DIRS = ['north', 'south', 'east', 'west'];

function concept(group: string, id: string, refs: string[], preps: string[] = ['in', 'inside', 'at'], param = false): RegionConcept {
  return { group, id, refs, preps, param };
}

/**
 * The pool of region concepts the corpus draws deployments from, and the references the
 * grounding accepts for them. Names avoid class and reaction words ("baggage claim", "bus
 * stop", "base" would read as a class or a reaction).
 */
export function regionConcepts(): RegionConcept[] {
  const c: RegionConcept[] = [];
  c.push(concept('queue', 'queue', ['the queue', 'passport control', 'the passport line', 'the passport queue', 'the line', 'the passport control queue']));
  c.push(concept('queue', 'passport_queue', ['the passport queue', 'passport control', 'the passport line', 'passport queue']));
  c.push(concept('queue', 'passport_control', ['passport control', 'the passport control area', 'the passport desks']));
  c.push(concept('security', 'security', ['security', 'the security checkpoint', 'the checkpoint', 'the security area']));
  c.push(concept('concourse', 'concourse', ['the concourse', 'the main concourse', 'the concourse area']));
  c.push(concept('perimeter', 'perimeter', ['the perimeter', 'the fence line', 'the perimeter fence'], ['on', 'at', 'along', 'near']));
  c.push(concept('entrance', 'entrance', ['the entrance', 'the main entrance', 'the front entrance', 'the entry'], ['at', 'near', 'by', 'in']));
  c.push(concept('entrance', 'main_entrance', ['the main entrance', 'the front entrance', 'main entrance'], ['at', 'near', 'by']));
  c.push(concept('lobby', 'lobby', ['the lobby', 'the foyer', 'the reception area'], ['in', 'inside']));
  c.push(concept('dock', 'loading_dock', ['the loading dock', 'the loading bay', 'the dock', 'loading dock'], ['at', 'in', 'on']));
  c.push(concept('taxi_rank', 'taxi_rank', ['the taxi rank', 'the taxi stand', 'the cab rank'], ['at', 'in', 'near']));
  c.push(concept('ticket_hall', 'ticket_hall', ['the ticket hall', 'the ticket office', 'ticketing'], ['in', 'at', 'inside']));
  c.push(concept('check_in', 'check_in', ['check-in', 'the check-in desks', 'check in', 'the check-in area'], ['at', 'in', 'near']));
  c.push(concept('runway', 'runway', ['the runway', 'the airstrip'], ['on', 'near', 'across']));
  c.push(concept('helipad', 'helipad', ['the helipad', 'the landing pad'], ['on', 'near', 'at']));
  c.push(concept('rooftop', 'rooftop', ['the roof', 'the rooftop', 'the roof terrace'], ['on', 'up on']));
  c.push(concept('yard', 'storage_yard', ['the storage yard', 'the yard', 'the depot yard'], ['in', 'at', 'inside']));
  c.push(concept('warehouse', 'warehouse', ['the warehouse', 'the warehouse floor', 'the shed'], ['in', 'inside', 'at']));
  c.push(concept('plaza', 'plaza', ['the plaza', 'the square', 'the town square'], ['in', 'on', 'at']));
  c.push(concept('courtyard', 'courtyard', ['the courtyard', 'the inner court'], ['in', 'inside']));
  c.push(concept('forecourt', 'forecourt', ['the forecourt', 'the front apron'], ['on', 'in', 'at']));
  c.push(concept('atrium', 'atrium', ['the atrium', 'the central atrium'], ['in', 'inside']));
  c.push(concept('stairs', 'stairwell', ['the stairwell', 'the stairs', 'the staircase'], ['in', 'on', 'near']));
  c.push(concept('escalator', 'escalators', ['the escalators', 'the escalator'], ['on', 'at', 'near']));
  c.push(concept('crossing', 'crosswalk', ['the crosswalk', 'the crossing', 'the zebra crossing'], ['on', 'at', 'in']));
  c.push(concept('pier', 'pier', ['the pier', 'the jetty'], ['on', 'at']));
  c.push(concept('quay', 'quay', ['the quay', 'the quayside', 'the wharf'], ['on', 'at', 'along']));
  c.push(concept('tunnel', 'tunnel', ['the tunnel', 'the underpass'], ['in', 'inside']));
  c.push(concept('bridge', 'footbridge', ['the footbridge', 'the bridge', 'the walkway bridge'], ['on', 'across']));
  c.push(concept('playground', 'playground', ['the playground', 'the play area'], ['in', 'at']));
  c.push(concept('garden', 'garden', ['the garden', 'the gardens'], ['in']));
  c.push(concept('platform', 'platform', ['the platform', 'the station platform', 'the train platform'], ['on', 'at']));
  c.push(concept('lot', 'car_park', ['the car park', 'the parking lot', 'the parking area', 'parking'], ['in', 'at']));
  c.push(concept('gate_area', 'gate_area', ['the gate area', 'the gates', 'the boarding area'], ['in', 'at', 'near']));
  c.push(concept('exit', 'exit', ['the exit', 'the way out', 'the exit doors'], ['at', 'near', 'by']));
  c.push(concept('zone', 'restricted_zone', ['the restricted zone', 'the restricted area', 'the no-go zone'], ['in', 'inside', 'into']));
  c.push(concept('waiting', 'waiting_area', ['the waiting area', 'the waiting room', 'the seating area'], ['in', 'inside']));
  c.push(concept('fuel', 'fuel_station', ['the fuel station', 'the petrol station', 'the pumps'], ['at', 'near', 'by']));
  c.push(concept('east_wing', 'east_wing', ['the east wing'], ['in', 'inside']));
  c.push(concept('west_wing', 'west_wing', ['the west wing'], ['in', 'inside']));
  // Parametric siblings: several may share a deployment, every reference carries the parameter.
  for (const d of DIRS) c.push(concept('platform', `platform_${d}`, [`the ${d} platform`, `platform ${d}`, `${d} platform`, `the ${d}bound platform`], ['on', 'at'], true));
  for (const d of DIRS) c.push(concept('lot', `${d}_lot`, [`the ${d} car park`, `the ${d} lot`, `${d} lot`, `the ${d} parking lot`, `${d} parking`], ['in', 'at'], true));
  for (const d of DIRS) c.push(concept('side', `${d}_side`, [`the ${d} side`, `${d} side`], ['on', 'along'], true));
  for (let n = 1; n <= 12; n++) c.push(concept('gate', `gate_${n}`, [`gate ${n}`, `gate ${DIGIT_WORDS[n]}`, `gate number ${n}`], ['at', 'near', 'by', 'in front of'], true));
  for (let n = 1; n <= 6; n++) c.push(concept('exit', `exit_${n}`, [`exit ${n}`, `exit ${DIGIT_WORDS[n]}`, `exit number ${n}`], ['at', 'near', 'by'], true));
  for (let n = 1; n <= 4; n++) c.push(concept('dock', `dock_${n}`, [`dock ${n}`, `dock ${DIGIT_WORDS[n]}`, `loading dock ${n}`, `bay ${n}`], ['at', 'in', 'on'], true));
  for (const x of ['a', 'b', 'c', 'd', 'e', 'f']) c.push(concept('zone', `zone_${x}`, [`zone ${x}`, `zone ${x.toUpperCase()}`], ['in', 'inside', 'into'], true));
  for (let n = 1; n <= 3; n++) c.push(concept('hall', `hall_${n}`, [`hall ${n}`, `hall ${DIGIT_WORDS[n]}`], ['in', 'inside'], true));
  return c;
}

let conceptIndex: Map<string, RegionConcept> | undefined;

/**
 * References an operator may use for a region id: the id itself, the id with spaces, and
 * the concept's descriptions when the id is one of the pool's (other ids: just the id forms).
 */
export function regionReferences(id: string): string[] {
  conceptIndex ??= new Map(regionConcepts().map((c) => [c.id, c]));
  const spaced = id.replace(/[_-]+/g, ' ').toLowerCase();
  // "loading bay two" for loading_bay_2: operators speak the number of an id they read as digits.
  const n = /^(.+) (\d+)$/.exec(spaced);
  const spoken = n && Number(n[2]) < DIGIT_WORDS.length ? [`${n[1]} ${DIGIT_WORDS[Number(n[2])]}`] : [];
  return [...new Set([id.toLowerCase(), spaced, ...spoken, ...(conceptIndex.get(id)?.refs ?? [])])];
}
