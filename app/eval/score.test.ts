import { describe, expect, it } from 'vitest';
import { episodes, scoreAlerts } from './score.js';

describe('alert scoring', () => {
  it('builds episodes from on/off samples, closing open ones at the end', () => {
    const eps = episodes(
      [
        { t: 1, name: 'a', active: true },
        { t: 2, name: 'a', active: true },
        { t: 5, name: 'a', active: false },
        { t: 7, name: 'a', active: true },
      ],
      10,
    );
    expect(eps).toEqual([
      { name: 'a', startS: 1, endS: 5 },
      { name: 'a', startS: 7, endS: 10 },
    ]);
  });

  it('counts hits, false alerts, misses and time to alert', () => {
    const truth = [{ name: 'queue_over_10', startS: 10, endS: 30 }];
    const alerts = [
      { name: 'queue', startS: 12, endS: 31 },
      { name: 'queue', startS: 50, endS: 55 },
    ];
    const s = scoreAlerts(truth, alerts, () => true, { lateS: 5, earlyS: 1 });
    expect(s).toMatchObject({ truePositives: 1, falsePositives: 1, falseNegatives: 0, precision: 0.5, recall: 1 });
    expect(s.timeToAlertS).toEqual([2]);
  });

  it('scores an empty control run as perfect precision and recall', () => {
    expect(scoreAlerts([], [], () => true, { lateS: 5, earlyS: 1 })).toMatchObject({ precision: 1, recall: 1 });
  });
});
