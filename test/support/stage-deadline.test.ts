import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { SimClock, sleep } from '../../runtime/clock.js';
import { StageStats } from '../../runtime/diagnostics.js';
import { withStageDeadline } from './stage-deadline.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('withStageDeadline (test nodes\' slow stage)', () => {
  it('withStageDeadline: records latency, misses, errors and drops; emits only on-time values', async () => {
    const c = new SimClock(0);
    const stage = new StageStats('perception/inference');
    const src = new Subject<number>();
    const out: number[] = [];
    src
      .pipe(
        withStageDeadline(c, stage, 30, async (n: number) => {
          if (n < 0) throw new Error(`bad input ${n}`);
          await sleep(c, n);
          return n;
        }),
      )
      .subscribe((v) => out.push(v));
    const step = async (ms: number): Promise<void> => {
      for (let i = 0; i < ms; i++) {
        c.advanceBy(1);
        await flush();
      }
    };
    src.next(10); // on time
    src.next(99); // dropped (replaced while busy)
    src.next(40); // waits, then misses its deadline
    await step(10);
    await step(30);
    src.next(-1); // error
    await step(5);
    expect(out).toEqual([10]);
    const s = stage.snapshot();
    expect(s).toMatchObject({ count: 3, misses: 1, errors: 1, drops: 1, lastError: 'bad input -1', max: 30 });
  });
});
