import { describe, it, expect } from 'vitest';
import { clauseSplits } from './clauses.js';

describe('clauseSplits', () => {
  it('cuts at sentence ends, semicolons, new lines and list bars, strongest split first', () => {
    expect(clauseSplits('more than 5 cars in the lot -> fyi; a bag left alone at gate 2 -> critical')[0]).toEqual(['more than 5 cars in the lot -> fyi', 'a bag left alone at gate 2 -> critical']);
    expect(clauseSplits('count the vans in the yard, tell me over 3. also, anyone loitering at the gate for 2 min')[0]).toEqual(['count the vans in the yard, tell me over 3', 'anyone loitering at the gate for 2 min']);
    expect(clauseSplits('over 9 people in hall 1\nover 9 people in hall 2')[0]).toEqual(['over 9 people in hall 1', 'over 9 people in hall 2']);
    expect(clauseSplits('- over 9 people in hall 1 - a car within 4 m of the drone')[0]).toEqual(['over 9 people in hall 1', 'a car within 4 m of the drone']);
  });

  it('then at joiners, and at a bare "and" only before a clause opener', () => {
    expect(clauseSplits('more than 10 people in the lobby, and someone lingering on the stairs over 1 min')).toEqual([['more than 10 people in the lobby', 'someone lingering on the stairs over 1 min']]);
    expect(clauseSplits('over 4 trucks at the dock as well as any person within 3 m of us')).toEqual([['over 4 trucks at the dock', 'any person within 3 m of us']]);
    expect(clauseSplits('more than 10 people and bags in the lobby')).toEqual([]);
  });

  it('offers bare commas last', () => {
    expect(clauseSplits('zone a over 20 people, zone b over 20 people')).toEqual([['zone a over 20 people', 'zone b over 20 people']]);
  });

  it('repeats a "header:" lead on every piece', () => {
    expect(clauseSplits('on the apron: more than 3 vans; anyone loitering for 5 min')[0]).toEqual(['on the apron: more than 3 vans', 'on the apron: anyone loitering for 5 min']);
  });

  it('offers no split of one clause, of a decimal, of more than four pieces, or of a piece that points back', () => {
    expect(clauseSplits('alert if more than 10 people are in the queue')).toEqual([]);
    expect(clauseSplits('a bag with no person within 2.5 m for 30 s')).toEqual([]);
    expect(clauseSplits('a; b; c; d; e')).toEqual([]);
    expect(clauseSplits('more than 10 people in the hall, and log any bag left alone there')).toEqual([]);
    expect(clauseSplits('zone a and zone b: more than 10 people each')).toEqual([]);
    expect(clauseSplits('over 3 vans, a person within 4 m of us, or bags left unattended: all critical')).toEqual([]);
    expect(clauseSplits('tell me when the hall gets 90 people, and when it\'s back under 20')).toEqual([]);
    expect(clauseSplits('dogs in the perimeter, any at all; over 5 cars in the lot')[0]).toEqual(['dogs in the perimeter, any at all', 'over 5 cars in the lot']);
  });
});
