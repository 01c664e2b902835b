// Learning-rate and weight-decay schedules as pure functions of the step, written with the same
// operations in the same order as `def schedule(step)` in the PyTorch reference trainer (the one
// `npm run bench -- train` runs beside ours), so both produce the same float64 values.
import { describe } from "../tensor/dtype";
import { checkNumber } from "../validate";

/** The learning rate and the weight decay of the decayed parameter group at a step. */
export interface ScheduleValue {
  lr: number;
  weightDecay: number;
}

/** A schedule: step (an integer >= 0, below the total steps where there is one) to its values. */
export type Schedule = (step: number) => ScheduleValue;

/** Options of `warmupCosine`. */
export interface WarmupCosineOptions {
  /** Learning rate at the end of the warmup, >= 0. */
  peakLr: number;
  /** Steps of linear warmup, an integer in [0, totalSteps]. */
  warmupSteps: number;
  /** Length of the run, an integer >= 1; the schedule is defined on [0, totalSteps). */
  totalSteps: number;
  /** Final learning rate as a fraction of the peak, in [0, 1] (default 0.1). */
  minRatio?: number;
  /** Weight decay at every step, >= 0. */
  weightDecay: number;
}

/** Options of `twoStage`. */
export interface TwoStageOptions {
  /** Stage-1 peak learning rate (end of the warmup), >= 0. */
  peakLr: number;
  /** Stage-2 peak learning rate, >= 0 (default peakLr / 2, the reference's --lr2). */
  secondPeakLr?: number;
  /** Steps of linear warmup, an integer in [0, totalSteps]. */
  warmupSteps: number;
  /** Length of the run, an integer >= 1; the schedule is defined on [0, totalSteps). */
  totalSteps: number;
  /** Weight decay during stage 1 (stage 2 uses 0), >= 0. */
  weightDecay: number;
}

/** Options of `constant`. */
export interface ConstantOptions {
  /** Learning rate at every step, >= 0. */
  lr: number;
  /** Weight decay at every step, >= 0. */
  weightDecay: number;
}

function checkObject(fn: string, opts: unknown): Record<string, unknown> {
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) throw new TypeError(`${fn}: options must be an object, received ${describe(opts)}`);
  return opts as Record<string, unknown>;
}

const nonNegative = (fn: string, name: string, value: unknown): number =>
  checkNumber(fn, name, value, "a finite number >= 0", (v) => Number.isFinite(v) && v >= 0);

/** Validates totalSteps and warmupSteps (warmup may not exceed the run). */
function checkSteps(fn: string, o: Record<string, unknown>): [number, number] {
  const total = checkNumber(fn, "totalSteps", o.totalSteps, "an integer >= 1", (v) => Number.isSafeInteger(v) && v >= 1);
  const warmup = checkNumber(fn, "warmupSteps", o.warmupSteps, `an integer in [0, totalSteps = ${total}]`, (v) => Number.isSafeInteger(v) && v >= 0 && v <= total);
  return [warmup, total];
}

/** The checked step argument of a schedule; `total` is the exclusive upper bound, if any. */
function checkStep(fn: string, step: unknown, total: number | null): number {
  const expected = total === null ? "an integer >= 0" : `an integer in [0, ${total - 1}]`;
  return checkNumber(fn, "step", step, expected, (v) => Number.isSafeInteger(v) && v >= 0 && (total === null || v < total));
}

/**
 * Linear warmup then cosine decay to `minRatio * peakLr` (the reference's 'cosine' schedule):
 * step < W: lr = peak * (step + 1) / W; otherwise p = (step - W) / max(1, S - W) and
 * lr = peak * (minRatio + (1 - minRatio) * 0.5 * (1 + cos(pi p))). Weight decay is constant.
 */
export function warmupCosine(opts: WarmupCosineOptions): Schedule {
  const fn = "warmupCosine";
  const o = checkObject(fn, opts);
  const peak = nonNegative(fn, "peakLr", o.peakLr);
  const [warmup, total] = checkSteps(fn, o);
  const minRatio = o.minRatio === undefined ? 0.1 : checkNumber(fn, "minRatio", o.minRatio, "a number in [0, 1]", (v) => v >= 0 && v <= 1);
  const weightDecay = nonNegative(fn, "weightDecay", o.weightDecay);
  const schedule: Schedule = (step) => {
    checkStep(`${fn} schedule`, step, total);
    if (step < warmup) return { lr: (peak * (step + 1)) / warmup, weightDecay };
    const p = (step - warmup) / Math.max(1, total - warmup);
    return { lr: peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * p))), weightDecay };
  };
  return schedule;
}

/**
 * The BitNet b1.58 two-stage schedule (the reference's 'two_stage'). With half = floor(S / 2):
 * step < W: lr = peak * (step + 1) / W, weight decay on; stage 1 (step < half):
 * p = (step - W) / max(1, half - W), lr = peak * (0.5 + 0.5 * 0.5 * (1 + cos(pi p))), weight
 * decay on; stage 2: p = (step - half) / max(1, S - half),
 * lr = secondPeakLr * 0.5 * (1 + cos(pi p)) + 1e-6, weight decay 0. The learning rate drops
 * abruptly at `half`. As in the reference, the warmup wins when it extends past `half`.
 */
export function twoStage(opts: TwoStageOptions): Schedule {
  const fn = "twoStage";
  const o = checkObject(fn, opts);
  const peak = nonNegative(fn, "peakLr", o.peakLr);
  const secondPeak = o.secondPeakLr === undefined ? peak * 0.5 : nonNegative(fn, "secondPeakLr", o.secondPeakLr);
  const [warmup, total] = checkSteps(fn, o);
  const weightDecay = nonNegative(fn, "weightDecay", o.weightDecay);
  const half = Math.floor(total / 2);
  const schedule: Schedule = (step) => {
    checkStep(`${fn} schedule`, step, total);
    if (step < warmup) return { lr: (peak * (step + 1)) / warmup, weightDecay };
    if (step < half) {
      const p = (step - warmup) / Math.max(1, half - warmup);
      return { lr: peak * (0.5 + 0.5 * 0.5 * (1 + Math.cos(Math.PI * p))), weightDecay };
    }
    const p = (step - half) / Math.max(1, total - half);
    return { lr: secondPeak * 0.5 * (1 + Math.cos(Math.PI * p)) + 1e-6, weightDecay: 0 };
  };
  return schedule;
}

/** The same learning rate and weight decay at every step (any integer step >= 0). */
export function constant(opts: ConstantOptions): Schedule {
  const fn = "constant";
  const o = checkObject(fn, opts);
  const lr = nonNegative(fn, "lr", o.lr);
  const weightDecay = nonNegative(fn, "weightDecay", o.weightDecay);
  const schedule: Schedule = (step) => {
    checkStep(`${fn} schedule`, step, null);
    return { lr, weightDecay };
  };
  return schedule;
}
