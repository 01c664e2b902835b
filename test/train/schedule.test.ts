// Schedules against values computed by hand (Python's math module on the reference's formulas,
// /work/shared/anchors/torch_qat_ref.py) at the steps where the shape changes, and bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Schedule, constant, twoStage, warmupCosine } from "../../src/train/schedule";

/** Asserts lr to 1e-12 relative (Math.cos may differ from libm in the last bit) and weight decay exactly. */
function expectAt(schedule: Schedule, step: number, lr: number, weightDecay: number): void {
  const v = schedule(step);
  assert.ok(Math.abs(v.lr - lr) <= 1e-12 * Math.abs(lr), `step ${step}: lr ${v.lr}, expected ${lr}`);
  assert.equal(v.weightDecay, weightDecay, `step ${step}: weightDecay`);
}

test("warmupCosine: linear warmup to the peak, then cosine decay to minRatio * peak", () => {
  const s = warmupCosine({ peakLr: 1e-3, warmupSteps: 10, totalSteps: 110, weightDecay: 0.1 });
  expectAt(s, 0, 1e-4, 0.1); // 1e-3 * 1 / 10
  expectAt(s, 4, 5e-4, 0.1); // 1e-3 * 5 / 10
  expectAt(s, 9, 1e-3, 0.1); // last warmup step reaches the peak
  expectAt(s, 10, 1e-3, 0.1); // p = 0: 1e-3 * (0.1 + 0.9)
  expectAt(s, 60, 5.5e-4, 0.1); // p = 0.5: 1e-3 * (0.1 + 0.45)
  expectAt(s, 109, 0.00010022204783542078, 0.1); // p = 0.99, last step, near 0.1 * peak
  // minRatio 0.25, no warmup: step 25 of 100 has p = 0.25.
  const t = warmupCosine({ peakLr: 5e-4, warmupSteps: 0, totalSteps: 100, minRatio: 0.25, weightDecay: 0 });
  expectAt(t, 0, 5e-4, 0);
  expectAt(t, 25, 0.00044508252147247763, 0);
  // A schedule is a pure function: the same step gives the same values, in any order.
  assert.deepEqual(s(60), s(60));
});

test("twoStage: warmup, stage-1 cosine to half the peak, then an abrupt switch to stage 2 without weight decay", () => {
  // S = 100, W = 10, half = 50, secondPeakLr defaults to peakLr / 2 = 1e-3.
  const s = twoStage({ peakLr: 2e-3, warmupSteps: 10, totalSteps: 100, weightDecay: 0.1 });
  expectAt(s, 0, 2e-4, 0.1);
  expectAt(s, 9, 2e-3, 0.1); // last warmup step
  expectAt(s, 10, 2e-3, 0.1); // stage 1, p = 0
  expectAt(s, 30, 1.5e-3, 0.1); // mid stage 1, p = 20 / 40 = 0.5: 2e-3 * (0.5 + 0.25)
  expectAt(s, 49, 0.001001541333133436, 0.1); // last step of stage 1, p = 39 / 40
  expectAt(s, 50, 1e-3 + 1e-6, 0); // first step of stage 2: weight decay drops to 0
  expectAt(s, 99, 1.9866357858642204e-6, 0); // last step, p = 49 / 50

  // An explicit lower second peak makes the learning rate drop abruptly at half.
  const d = twoStage({ peakLr: 2e-3, secondPeakLr: 5e-4, warmupSteps: 10, totalSteps: 100, weightDecay: 0.1 });
  expectAt(d, 49, 0.001001541333133436, 0.1);
  expectAt(d, 50, 5e-4 + 1e-6, 0);
  expectAt(d, 99, 1.4933178929321103e-6, 0);

  // Odd S: half = floor(101 / 2) = 50 and stage 2 spans 51 steps.
  const o = twoStage({ peakLr: 2e-3, warmupSteps: 10, totalSteps: 101, weightDecay: 0.1 });
  expectAt(o, 49, 0.001001541333133436, 0.1);
  expectAt(o, 50, 1e-3 + 1e-6, 0);

  // As in the reference, a warmup longer than half the run wins over stage 1 and stage 2.
  const w = twoStage({ peakLr: 2e-3, warmupSteps: 60, totalSteps: 100, weightDecay: 0.1 });
  expectAt(w, 55, 0.0018666666666666666, 0.1); // 2e-3 * 56 / 60
  expectAt(w, 60, 0.0009055084971874738, 0); // stage 2, p = 10 / 50
});

test("constant: the same values at every step", () => {
  const s = constant({ lr: 3e-4, weightDecay: 0.05 });
  assert.deepEqual(s(0), { lr: 3e-4, weightDecay: 0.05 });
  assert.deepEqual(s(1_000_000), { lr: 3e-4, weightDecay: 0.05 });
});

test("bad options and steps throw RangeError/TypeError naming the argument", () => {
  const cosine = warmupCosine({ peakLr: 1e-3, warmupSteps: 2, totalSteps: 10, weightDecay: 0.1 });
  const two = twoStage({ peakLr: 1e-3, warmupSteps: 2, totalSteps: 10, weightDecay: 0.1 });
  const flat = constant({ lr: 1e-3, weightDecay: 0 });
  const cases: [() => unknown, ErrorConstructor, RegExp][] = [
    [() => warmupCosine({ peakLr: 1e-3, warmupSteps: 11, totalSteps: 10, weightDecay: 0 }), RangeError, /^warmupCosine: warmupSteps must be an integer in \[0, totalSteps = 10\], received 11$/],
    [() => twoStage({ peakLr: 1e-3, warmupSteps: 20, totalSteps: 10, weightDecay: 0 }), RangeError, /^twoStage: warmupSteps must be an integer in \[0, totalSteps = 10\], received 20$/],
    [() => warmupCosine({ peakLr: 1e-3, warmupSteps: -1, totalSteps: 10, weightDecay: 0 }), RangeError, /^warmupCosine: warmupSteps must be an integer in \[0, totalSteps = 10\], received -1$/],
    [() => warmupCosine({ peakLr: 1e-3, warmupSteps: 1.5, totalSteps: 10, weightDecay: 0 }), RangeError, /^warmupCosine: warmupSteps must be an integer .* received 1.5$/],
    [() => twoStage({ peakLr: 1e-3, warmupSteps: 0, totalSteps: 0, weightDecay: 0 }), RangeError, /^twoStage: totalSteps must be an integer >= 1, received 0$/],
    [() => twoStage({ peakLr: 1e-3, warmupSteps: 0, totalSteps: 99.5, weightDecay: 0 }), RangeError, /^twoStage: totalSteps must be an integer >= 1, received 99.5$/],
    [() => warmupCosine({ peakLr: -1e-3, warmupSteps: 0, totalSteps: 10, weightDecay: 0 }), RangeError, /^warmupCosine: peakLr must be a finite number >= 0, received -0.001$/],
    [() => twoStage({ peakLr: 1e-3, secondPeakLr: -1, warmupSteps: 0, totalSteps: 10, weightDecay: 0 }), RangeError, /^twoStage: secondPeakLr must be a finite number >= 0, received -1$/],
    [() => constant({ lr: -1, weightDecay: 0 }), RangeError, /^constant: lr must be a finite number >= 0, received -1$/],
    [() => constant({ lr: Infinity, weightDecay: 0 }), RangeError, /^constant: lr must be a finite number >= 0, received Infinity$/],
    [() => constant({ lr: 1e-3, weightDecay: -0.1 }), RangeError, /^constant: weightDecay must be a finite number >= 0, received -0.1$/],
    [() => twoStage({ peakLr: 1e-3, warmupSteps: 0, totalSteps: 10 } as unknown as Parameters<typeof twoStage>[0]), TypeError, /^twoStage: weightDecay must be a finite number >= 0, received undefined$/],
    [() => warmupCosine({ peakLr: 1e-3, warmupSteps: 0, totalSteps: 10, minRatio: 1.5, weightDecay: 0 }), RangeError, /^warmupCosine: minRatio must be a number in \[0, 1\], received 1.5$/],
    [() => warmupCosine("fast" as unknown as Parameters<typeof warmupCosine>[0]), TypeError, /^warmupCosine: options must be an object, received 'fast'$/],
    [() => cosine(-1), RangeError, /^warmupCosine schedule: step must be an integer in \[0, 9\], received -1$/],
    [() => cosine(2.5), RangeError, /^warmupCosine schedule: step must be an integer in \[0, 9\], received 2.5$/],
    [() => cosine(10), RangeError, /^warmupCosine schedule: step must be an integer in \[0, 9\], received 10$/],
    [() => two(NaN), RangeError, /^twoStage schedule: step must be an integer in \[0, 9\], received NaN$/],
    [() => two("3" as unknown as number), TypeError, /^twoStage schedule: step must be an integer in \[0, 9\], received '3'$/],
    [() => flat(-2), RangeError, /^constant schedule: step must be an integer >= 0, received -2$/],
  ];
  for (const [fn, type, message] of cases) assert.throws(fn, (e: Error) => e instanceof type && message.test(e.message), String(message));
});
