// Optimizers (AdamW, SGD with momentum) and gradient-norm clipping with PyTorch's update rules,
// so a run can be compared step by step with the PyTorch reference trainer (the one
// `npm run bench -- train` runs). Parameters are updated in place through their
// Float32Array views, one tight loop per parameter; moments are plain Float32Arrays (they never
// take part in an op), so a checkpoint is the arrays themselves.
import * as native from "../backend/kernels";
import { Tensor } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import { formatShape } from "../tensor/shape";
import { keep } from "../tensor/scope";
import { noGrad, zeroGrad as releaseGrads } from "../autograd/tape";
import { checkNumber } from "../validate";

/** A set of parameters sharing a learning rate and weight decay (PyTorch's param group). */
export interface ParamGroup {
  /** Leaf f32 tensors that require grad. */
  params: Tensor<"f32">[];
  /** Learning rate of this group (default: the optimizer's `lr`). */
  lr?: number;
  /** Weight decay of this group (default: the optimizer's `weightDecay`). */
  weightDecay?: number;
}

/** A parameter group as the optimizer holds it; change it with `setLr` / `setWeightDecay`. */
export interface ParamGroupSettings {
  readonly params: readonly Tensor<"f32">[];
  readonly lr: number;
  readonly weightDecay: number;
}

/** The hyperparameters of one group in a state dict. */
export interface ParamGroupState {
  lr: number;
  weightDecay: number;
  /** Number of parameters in the group (they are numbered across groups, in order). */
  paramCount: number;
}

/** Options of `AdamW`. */
export interface AdamWOptions {
  /** Learning rate (default of every group), >= 0. */
  lr: number;
  /** Decay rates of the first and second moment estimates, each in [0, 1) (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator for stability, > 0 (default 1e-8). */
  eps?: number;
  /** Decoupled weight decay (default of every group), >= 0 (default 0.01). */
  weightDecay?: number;
}

/** AdamW state of one parameter: its update count and moment estimates (length = numel). */
export interface AdamWParamState {
  step: number;
  expAvg: Float32Array;
  expAvgSq: Float32Array;
}

/** A checkpointable copy of an AdamW optimizer (plain data; arrays are copies). */
export interface AdamWStateDict {
  optimizer: "AdamW";
  betas: [number, number];
  eps: number;
  groups: ParamGroupState[];
  /** Shape of every parameter, numbered across groups in order. */
  paramShapes: number[][];
  /** State of every parameter (null until it first had a gradient at a step). */
  state: (AdamWParamState | null)[];
}

/** Options of `SGD`. */
export interface SGDOptions {
  /** Learning rate (default of every group), >= 0. */
  lr: number;
  /** Momentum factor, >= 0 (default 0: plain SGD, no buffers). */
  momentum?: number;
  /** L2 penalty added to the gradient (default of every group), >= 0 (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false; needs momentum > 0). */
  nesterov?: boolean;
}

/** SGD state of one parameter: its update count and momentum buffer (null without momentum). */
export interface SGDParamState {
  step: number;
  momentumBuffer: Float32Array | null;
}

/** A checkpointable copy of an SGD optimizer (plain data; arrays are copies). */
export interface SGDStateDict {
  optimizer: "SGD";
  momentum: number;
  nesterov: boolean;
  groups: ParamGroupState[];
  /** Shape of every parameter, numbered across groups in order. */
  paramShapes: number[][];
  /** State of every parameter (null until it first had a gradient at a step). */
  state: (SGDParamState | null)[];
}

/** Any optimizer's state dict. */
export type OptimizerStateDict = AdamWStateDict | SGDStateDict;

/** What a trainer needs from an optimizer (implemented by AdamW and SGD). */
export interface Optimizer {
  /** The groups with their current learning rate and weight decay. */
  readonly paramGroups: readonly ParamGroupSettings[];
  /** Updates every parameter that has a gradient, in place. */
  step(): void;
  /** Disposes every parameter's gradient and sets it to null. */
  zeroGrad(): void;
  /** Sets the learning rate of group `groupIndex`, or of every group when it is omitted. */
  setLr(lr: number, groupIndex?: number): void;
  /** Sets the weight decay of group `groupIndex`, or of every group when it is omitted. */
  setWeightDecay(weightDecay: number, groupIndex?: number): void;
  /** A copy of the optimizer state for a checkpoint. */
  stateDict(): OptimizerStateDict;
  /** Restores a state from `stateDict()` of an optimizer over parameters of the same shapes. */
  loadStateDict(state: OptimizerStateDict): void;
}

// ------------------------------------------------------------------------- validation

const nonNegative = (fn: string, name: string, value: unknown): number =>
  checkNumber(fn, name, value, "a finite number >= 0", (v) => Number.isFinite(v) && v >= 0);

const checkBeta = (fn: string, name: string, value: unknown): number =>
  checkNumber(fn, name, value, "a number in [0, 1)", (v) => v >= 0 && v < 1);

const checkEps = (fn: string, name: string, value: unknown): number =>
  checkNumber(fn, name, value, "a finite number > 0", (v) => Number.isFinite(v) && v > 0);

function checkOptions(fn: string, opts: unknown): Record<string, unknown> {
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) {
    throw new TypeError(`${fn}: options must be an object with at least lr, received ${describe(opts)}`);
  }
  return opts as Record<string, unknown>;
}

function checkBetas(fn: string, name: string, value: unknown): [number, number] {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new TypeError(`${fn}: ${name} must be an array of two numbers in [0, 1), received ${describe(value)}`);
  }
  return [checkBeta(fn, `${name}[0]`, value[0]), checkBeta(fn, `${name}[1]`, value[1])];
}

function checkParam(fn: string, name: string, p: unknown): Tensor<"f32"> {
  if (!(p instanceof Tensor)) throw new TypeError(`${fn}: ${name} must be a Tensor, received ${describe(p)}`);
  if (p.disposed) throw new TypeError(`${fn}: ${name} was disposed`);
  if (p.dtype !== "f32") throw new TypeError(`${fn}: ${name} must be an f32 tensor, received ${p.dtype}`);
  if (!p.requiresGrad) throw new TypeError(`${fn}: ${name} must require grad (call requiresGrad_() on it), received a tensor that does not`);
  if (p.gradNode !== null) {
    throw new TypeError(`${fn}: ${name} must be a leaf tensor, received the result of '${p.gradNode.op}' (gradients never reach it)`);
  }
  // The update writes through data(), which only exists for contiguous tensors.
  if (!p.isContiguous()) throw new TypeError(`${fn}: ${name} must be contiguous, received strides ${formatShape(p.strides)}`);
  return p as Tensor<"f32">;
}

function checkGroupIndex(fn: string, groupIndex: unknown, count: number): number {
  if (typeof groupIndex !== "number") throw new TypeError(`${fn}: groupIndex must be an integer in [0, ${count - 1}], received ${describe(groupIndex)}`);
  if (!Number.isInteger(groupIndex) || groupIndex < 0 || groupIndex >= count) {
    throw new RangeError(`${fn}: groupIndex must be an integer in [0, ${count - 1}], received ${describe(groupIndex)}`);
  }
  return groupIndex;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * The gradient of parameter `index` as a Float32Array, or null when it has none (never had one,
 * or its gradient tensor was disposed). A non-contiguous gradient is replaced by a contiguous
 * copy so the loops can index it directly.
 */
function gradientData(fn: string, p: Tensor<"f32">, index: number): Float32Array | null {
  const g: unknown = p.grad;
  if (g === null || g === undefined) return null;
  if (!(g instanceof Tensor)) throw new TypeError(`${fn}: the gradient of parameter ${index} must be a Tensor or null, received ${describe(g)}`);
  if (g.disposed) return null;
  if (g.dtype !== "f32") throw new TypeError(`${fn}: the gradient of parameter ${index} must be f32, received ${g.dtype}`);
  if (!sameShape(g.shape, p.shape)) {
    throw new RangeError(`${fn}: the gradient of parameter ${index} has shape ${formatShape(g.shape)}, expected the parameter's shape ${formatShape(p.shape)}`);
  }
  if (!g.isContiguous()) {
    const c = keep(noGrad(() => (g as Tensor<"f32">).contiguous()));
    g.dispose();
    p.grad = c;
    return c.data();
  }
  return (g as Tensor<"f32">).data();
}

/** Checks every parameter is live and every gradient well-formed; returns the gradients. */
function collectGradients(fn: string, params: readonly Tensor<"f32">[]): (Float32Array | null)[] {
  return params.map((p, i) => {
    if (p.disposed) throw new Error(`${fn}: parameter ${i} was disposed`);
    if (p.detached) throw new Error(`${fn}: the memory of parameter ${i} was detached`);
    return gradientData(fn, p, i);
  });
}

// ---------------------------------------------------------------------- param groups

interface Group {
  params: Tensor<"f32">[];
  lr: number;
  weightDecay: number;
}

/** The groups and the flat parameter list every optimizer keeps (shared by AdamW and SGD). */
class Groups {
  readonly groups: Group[];
  readonly params: Tensor<"f32">[];

  constructor(fn: string, params: unknown, lr: number, weightDecay: number) {
    const expected = "an array of f32 Tensors or of parameter groups { params, lr?, weightDecay? }";
    if (!Array.isArray(params)) throw new TypeError(`${fn}: params must be ${expected}, received ${describe(params)}`);
    if (params.length === 0) throw new RangeError(`${fn}: params must not be empty, received an array of length 0`);
    const tensors = params[0] instanceof Tensor;
    this.groups = [];
    if (tensors) {
      this.groups.push({ params: params.map((p, i) => checkParam(fn, `params[${i}]`, p)), lr, weightDecay });
    } else {
      params.forEach((group: unknown, gi) => {
        if (typeof group !== "object" || group === null || group instanceof Tensor || !Array.isArray((group as ParamGroup).params)) {
          throw new TypeError(`${fn}: params[${gi}] must be a parameter group { params, lr?, weightDecay? } like params[0], received ${describe(group)}`);
        }
        const g = group as ParamGroup;
        this.groups.push({
          params: g.params.map((p, i) => checkParam(fn, `params[${gi}].params[${i}]`, p)),
          lr: g.lr === undefined ? lr : nonNegative(fn, `params[${gi}].lr`, g.lr),
          weightDecay: g.weightDecay === undefined ? weightDecay : nonNegative(fn, `params[${gi}].weightDecay`, g.weightDecay),
        });
      });
    }
    this.params = this.groups.flatMap((g) => g.params);
    if (this.params.length === 0) throw new RangeError(`${fn}: the parameter groups hold no parameters`);
    const seen = new Set<Tensor>();
    this.params.forEach((p, i) => {
      if (seen.has(p)) throw new RangeError(`${fn}: parameter ${i} appears more than once (each parameter may be in one group, once)`);
      seen.add(p);
    });
  }

  settings(): ParamGroupSettings[] {
    return this.groups.map((g) => Object.freeze({ params: Object.freeze(g.params.slice()), lr: g.lr, weightDecay: g.weightDecay }));
  }

  setLr(fn: string, lr: unknown, groupIndex: unknown): void {
    const v = nonNegative(fn, "lr", lr);
    if (groupIndex === undefined) for (const g of this.groups) g.lr = v;
    else this.groups[checkGroupIndex(fn, groupIndex, this.groups.length)].lr = v;
  }

  setWeightDecay(fn: string, weightDecay: unknown, groupIndex: unknown): void {
    const v = nonNegative(fn, "weightDecay", weightDecay);
    if (groupIndex === undefined) for (const g of this.groups) g.weightDecay = v;
    else this.groups[checkGroupIndex(fn, groupIndex, this.groups.length)].weightDecay = v;
  }

  zeroGrad(): void {
    releaseGrads(this.params);
  }

  groupStates(): ParamGroupState[] {
    return this.groups.map((g) => ({ lr: g.lr, weightDecay: g.weightDecay, paramCount: g.params.length }));
  }

  paramShapes(): number[][] {
    return this.params.map((p) => p.shape.slice());
  }

  /**
   * Checks the parts of a state dict every optimizer has (kind, groups, shapes, the state array's
   * length) against this optimizer; returns the group settings to apply. Changes nothing.
   */
  checkState(fn: string, kind: string, state: unknown): { groups: { lr: number; weightDecay: number }[]; entries: unknown[]; dict: Record<string, unknown> } {
    if (typeof state !== "object" || state === null || Array.isArray(state)) {
      throw new TypeError(`${fn}: state must be an object from ${kind}.stateDict(), received ${describe(state)}`);
    }
    const dict = state as Record<string, unknown>;
    if (dict.optimizer !== kind) throw new TypeError(`${fn}: state must come from ${kind}.stateDict(), received the state of ${describe(dict.optimizer)}`);
    const groups = dict.groups;
    if (!Array.isArray(groups)) throw new TypeError(`${fn}: state.groups must be an array, received ${describe(groups)}`);
    if (groups.length !== this.groups.length) {
      throw new RangeError(`${fn}: state.groups has ${groups.length} groups, this optimizer has ${this.groups.length}`);
    }
    const settings = groups.map((g: unknown, gi) => {
      if (typeof g !== "object" || g === null) throw new TypeError(`${fn}: state.groups[${gi}] must be an object, received ${describe(g)}`);
      const s = g as Record<string, unknown>;
      if (s.paramCount !== this.groups[gi].params.length) {
        throw new RangeError(`${fn}: state.groups[${gi}] holds ${describe(s.paramCount)} parameters, this optimizer's group ${gi} holds ${this.groups[gi].params.length}`);
      }
      return { lr: nonNegative(fn, `state.groups[${gi}].lr`, s.lr), weightDecay: nonNegative(fn, `state.groups[${gi}].weightDecay`, s.weightDecay) };
    });
    const shapes = dict.paramShapes;
    if (!Array.isArray(shapes)) throw new TypeError(`${fn}: state.paramShapes must be an array, received ${describe(shapes)}`);
    if (shapes.length !== this.params.length) {
      throw new RangeError(`${fn}: state.paramShapes lists ${shapes.length} parameters, this optimizer has ${this.params.length}`);
    }
    shapes.forEach((s: unknown, i) => {
      if (!Array.isArray(s) || !sameShape(s, this.params[i].shape)) {
        throw new RangeError(`${fn}: parameter ${i} of the state has shape ${Array.isArray(s) ? formatShape(s) : describe(s)}, this optimizer's has ${formatShape(this.params[i].shape)}`);
      }
    });
    const entries = dict.state;
    if (!Array.isArray(entries)) throw new TypeError(`${fn}: state.state must be an array, received ${describe(entries)}`);
    if (entries.length !== this.params.length) {
      throw new RangeError(`${fn}: state.state has ${entries.length} entries, this optimizer has ${this.params.length} parameters`);
    }
    return { groups: settings, entries, dict };
  }

  applyGroupSettings(settings: { lr: number; weightDecay: number }[]): void {
    settings.forEach((s, gi) => {
      this.groups[gi].lr = s.lr;
      this.groups[gi].weightDecay = s.weightDecay;
    });
  }
}

function checkStep(fn: string, name: string, value: unknown): number {
  return checkNumber(fn, name, value, "an integer >= 1", (v) => Number.isSafeInteger(v) && v >= 1);
}

function checkMoment(fn: string, name: string, value: unknown, numel: number): Float32Array {
  if (!(value instanceof Float32Array)) throw new TypeError(`${fn}: ${name} must be a Float32Array, received ${describe(value)}`);
  if (value.length !== numel) throw new RangeError(`${fn}: ${name} must have ${numel} elements (the parameter's), received ${value.length}`);
  return value;
}

// ---------------------------------------------------------------------------- kernels

// One pass over the parameter, in PyTorch's order: decoupled decay, moments, bias-corrected step
// (torch.optim.AdamW single-tensor path). Arithmetic is float64; results are stored as float32.
function adamwUpdate(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  decay: number,
  beta1: number,
  beta2: number,
  stepSize: number,
  bias2Sqrt: number,
  eps: number,
): void {
  const n = p.length;
  // Large tensors on the native kernel: the same float64 operations in the same order (the
  // addon is built without FMA contraction), threaded.
  if (n >= native.NATIVE_MIN_ELEMENTS && g.length === n && m.length === n && v.length === n) {
    native.adamwUpdate(p, g, m, v, decay, beta1, beta2, stepSize, bias2Sqrt, eps);
    return;
  }
  const a1 = 1 - beta1;
  const a2 = 1 - beta2;
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + a1 * gi;
    const vi = beta2 * v[i] + a2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / bias2Sqrt + eps);
  }
}

// torch.optim.SGD: d = g + wd * p; buf = momentum * buf + d (buf = d on the first step);
// d = nesterov ? d + momentum * buf : buf; p -= lr * d.
function sgdUpdate(p: Float32Array, g: Float32Array, buf: Float32Array | null, first: boolean, lr: number, wd: number, momentum: number, nesterov: boolean): void {
  const n = p.length;
  if (buf === null) {
    for (let i = 0; i < n; i++) p[i] -= lr * (g[i] + wd * p[i]);
    return;
  }
  for (let i = 0; i < n; i++) {
    const d = g[i] + wd * p[i];
    const b = first ? d : momentum * buf[i] + d;
    buf[i] = b;
    p[i] -= lr * (nesterov ? d + momentum * b : b);
  }
}

// ------------------------------------------------------------------------------ AdamW

/**
 * AdamW (Loshchilov & Hutter), exactly torch.optim.AdamW: per parameter with a gradient,
 * t += 1; p -= lr * wd * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). Parameters whose grad is null are
 * skipped (their step count does not advance). Gradients accumulated over several backward
 * calls are used as they are.
 */
export class AdamW implements Optimizer {
  #groups: Groups;
  #betas: [number, number];
  #eps: number;
  #state: (AdamWParamState | null)[];

  /**
   * @param params leaf f32 tensors that require grad, or parameter groups with their own lr /
   *   weightDecay (see `AdamW.defaultGroups`).
   * @param opts lr (required), betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0.01.
   */
  constructor(params: Tensor<"f32">[] | ParamGroup[], opts: AdamWOptions) {
    const fn = "AdamW";
    const o = checkOptions(fn, opts);
    const lr = nonNegative(fn, "lr", o.lr);
    this.#betas = o.betas === undefined ? [0.9, 0.999] : checkBetas(fn, "betas", o.betas);
    this.#eps = o.eps === undefined ? 1e-8 : checkEps(fn, "eps", o.eps);
    const weightDecay = o.weightDecay === undefined ? 0.01 : nonNegative(fn, "weightDecay", o.weightDecay);
    this.#groups = new Groups(fn, params, lr, weightDecay);
    this.#state = this.#groups.params.map(() => null);
  }

  /**
   * The reference recipe's two groups: [0] 2-D weights whose name contains neither "emb" nor
   * "norm" (case-insensitive) with `weightDecay`; [1] everything else (biases, norm gains,
   * embeddings, and a head tied to the embedding) with 0. Both groups are always returned, so
   * a schedule sets the decayed group's weight decay with `setWeightDecay(wd, 0)`. A tensor
   * listed under several names is included once, undecayed if any of its names excludes it.
   */
  static defaultGroups(namedParams: Iterable<readonly [string, Tensor]>, weightDecay: number): [ParamGroup, ParamGroup] {
    const fn = "AdamW.defaultGroups";
    if (namedParams === null || typeof namedParams !== "object" || typeof (namedParams as Iterable<unknown>)[Symbol.iterator] !== "function") {
      throw new TypeError(`${fn}: namedParams must be an iterable of [name, Tensor] pairs (e.g. an array or Map), received ${describe(namedParams)}`);
    }
    const wd = nonNegative(fn, "weightDecay", weightDecay);
    const decayed = new Map<Tensor<"f32">, boolean>();
    let i = 0;
    for (const entry of namedParams as Iterable<unknown>) {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== "string") {
        throw new TypeError(`${fn}: namedParams entry ${i} must be a [name, Tensor] pair, received ${describe(entry)}`);
      }
      const [name, tensor] = entry as [string, unknown];
      const p = checkParam(fn, `the parameter '${name}'`, tensor);
      const decays = p.ndim === 2 && !/emb|norm/i.test(name);
      decayed.set(p, (decayed.get(p) ?? true) && decays);
      i++;
    }
    const decay: Tensor<"f32">[] = [];
    const noDecay: Tensor<"f32">[] = [];
    for (const [p, d] of decayed) (d ? decay : noDecay).push(p);
    return [
      { params: decay, weightDecay: wd },
      { params: noDecay, weightDecay: 0 },
    ];
  }

  /** The groups with their current learning rate and weight decay. */
  get paramGroups(): readonly ParamGroupSettings[] {
    return this.#groups.settings();
  }

  /** Sets the learning rate (>= 0) of group `groupIndex`, or of every group when omitted. */
  setLr(lr: number, groupIndex?: number): void {
    this.#groups.setLr("AdamW.setLr", lr, groupIndex);
  }

  /**
   * Sets the weight decay (>= 0) of group `groupIndex`, or of every group when omitted (with
   * `defaultGroups`, pass 0 so biases, norms and embeddings keep none).
   */
  setWeightDecay(weightDecay: number, groupIndex?: number): void {
    this.#groups.setWeightDecay("AdamW.setWeightDecay", weightDecay, groupIndex);
  }

  /** Disposes every parameter's gradient and sets it to null. */
  zeroGrad(): void {
    this.#groups.zeroGrad();
  }

  /** One AdamW update of every parameter that has a gradient, in place. */
  step(): void {
    const fn = "AdamW.step";
    const grads = collectGradients(fn, this.#groups.params);
    const [beta1, beta2] = this.#betas;
    noGrad(() => {
      let index = 0;
      for (const group of this.#groups.groups) {
        for (const p of group.params) {
          const g = grads[index];
          if (g !== null) {
            let s = this.#state[index];
            if (s === null) {
              s = { step: 0, expAvg: new Float32Array(p.numel), expAvgSq: new Float32Array(p.numel) };
              this.#state[index] = s;
            }
            s.step++;
            const bias1 = 1 - Math.pow(beta1, s.step);
            const bias2 = 1 - Math.pow(beta2, s.step);
            adamwUpdate(p.data(), g, s.expAvg, s.expAvgSq, 1 - group.lr * group.weightDecay, beta1, beta2, group.lr / bias1, Math.sqrt(bias2), this.#eps);
          }
          index++;
        }
      }
    });
  }

  /** A copy of the whole state (hyperparameters, step counts, moments) for a checkpoint. */
  stateDict(): AdamWStateDict {
    return {
      optimizer: "AdamW",
      betas: [this.#betas[0], this.#betas[1]],
      eps: this.#eps,
      groups: this.#groups.groupStates(),
      paramShapes: this.#groups.paramShapes(),
      state: this.#state.map((s) => (s === null ? null : { step: s.step, expAvg: s.expAvg.slice(), expAvgSq: s.expAvgSq.slice() })),
    };
  }

  /**
   * Restores `stateDict()` output (copied), including betas, eps and every group's lr and
   * weight decay, like PyTorch. The parameters must match in number, grouping and shape;
   * nothing changes when the state is rejected.
   */
  loadStateDict(state: AdamWStateDict): void {
    const fn = "AdamW.loadStateDict";
    const { groups, entries, dict } = this.#groups.checkState(fn, "AdamW", state);
    const betas = checkBetas(fn, "state.betas", dict.betas);
    const eps = checkEps(fn, "state.eps", dict.eps);
    const restored = entries.map((e: unknown, i): AdamWParamState | null => {
      if (e === null) return null;
      if (typeof e !== "object") throw new TypeError(`${fn}: state.state[${i}] must be an object or null, received ${describe(e)}`);
      const s = e as Record<string, unknown>;
      const numel = this.#groups.params[i].numel;
      return {
        step: checkStep(fn, `state.state[${i}].step`, s.step),
        expAvg: checkMoment(fn, `state.state[${i}].expAvg`, s.expAvg, numel).slice(),
        expAvgSq: checkMoment(fn, `state.state[${i}].expAvgSq`, s.expAvgSq, numel).slice(),
      };
    });
    this.#groups.applyGroupSettings(groups);
    this.#betas = betas;
    this.#eps = eps;
    this.#state = restored;
  }
}

// -------------------------------------------------------------------------------- SGD

/**
 * Stochastic gradient descent with optional momentum, exactly torch.optim.SGD (dampening 0):
 * d = g + wd * p; buf = momentum * buf + d (buf = d on a parameter's first step);
 * d = nesterov ? d + momentum * buf : buf; p -= lr * d. Parameters whose grad is null are skipped.
 */
export class SGD implements Optimizer {
  #groups: Groups;
  #momentum: number;
  #nesterov: boolean;
  #state: (SGDParamState | null)[];

  /**
   * @param params leaf f32 tensors that require grad, or parameter groups.
   * @param opts lr (required), momentum = 0, weightDecay = 0, nesterov = false.
   */
  constructor(params: Tensor<"f32">[] | ParamGroup[], opts: SGDOptions) {
    const fn = "SGD";
    const o = checkOptions(fn, opts);
    const lr = nonNegative(fn, "lr", o.lr);
    this.#momentum = o.momentum === undefined ? 0 : nonNegative(fn, "momentum", o.momentum);
    const weightDecay = o.weightDecay === undefined ? 0 : nonNegative(fn, "weightDecay", o.weightDecay);
    if (o.nesterov !== undefined && typeof o.nesterov !== "boolean") throw new TypeError(`${fn}: nesterov must be a boolean, received ${describe(o.nesterov)}`);
    this.#nesterov = o.nesterov === true;
    if (this.#nesterov && this.#momentum === 0) throw new RangeError(`${fn}: nesterov needs momentum > 0, received momentum 0`);
    this.#groups = new Groups(fn, params, lr, weightDecay);
    this.#state = this.#groups.params.map(() => null);
  }

  /** The groups with their current learning rate and weight decay. */
  get paramGroups(): readonly ParamGroupSettings[] {
    return this.#groups.settings();
  }

  /** Sets the learning rate (>= 0) of group `groupIndex`, or of every group when omitted. */
  setLr(lr: number, groupIndex?: number): void {
    this.#groups.setLr("SGD.setLr", lr, groupIndex);
  }

  /** Sets the weight decay (>= 0) of group `groupIndex`, or of every group when omitted. */
  setWeightDecay(weightDecay: number, groupIndex?: number): void {
    this.#groups.setWeightDecay("SGD.setWeightDecay", weightDecay, groupIndex);
  }

  /** Disposes every parameter's gradient and sets it to null. */
  zeroGrad(): void {
    this.#groups.zeroGrad();
  }

  /** One SGD update of every parameter that has a gradient, in place. */
  step(): void {
    const fn = "SGD.step";
    const grads = collectGradients(fn, this.#groups.params);
    noGrad(() => {
      let index = 0;
      for (const group of this.#groups.groups) {
        for (const p of group.params) {
          const g = grads[index];
          if (g !== null) {
            let s = this.#state[index];
            const first = s === null || s.momentumBuffer === null;
            if (s === null) {
              s = { step: 0, momentumBuffer: null };
              this.#state[index] = s;
            }
            if (this.#momentum !== 0 && s.momentumBuffer === null) s.momentumBuffer = new Float32Array(p.numel);
            s.step++;
            sgdUpdate(p.data(), g, this.#momentum === 0 ? null : s.momentumBuffer, first, group.lr, group.weightDecay, this.#momentum, this.#nesterov);
          }
          index++;
        }
      }
    });
  }

  /** A copy of the whole state (hyperparameters, step counts, momentum buffers) for a checkpoint. */
  stateDict(): SGDStateDict {
    return {
      optimizer: "SGD",
      momentum: this.#momentum,
      nesterov: this.#nesterov,
      groups: this.#groups.groupStates(),
      paramShapes: this.#groups.paramShapes(),
      state: this.#state.map((s) => (s === null ? null : { step: s.step, momentumBuffer: s.momentumBuffer === null ? null : s.momentumBuffer.slice() })),
    };
  }

  /**
   * Restores `stateDict()` output (copied), including momentum, nesterov and every group's lr
   * and weight decay. The parameters must match in number, grouping and shape; nothing changes
   * when the state is rejected.
   */
  loadStateDict(state: SGDStateDict): void {
    const fn = "SGD.loadStateDict";
    const { groups, entries, dict } = this.#groups.checkState(fn, "SGD", state);
    const momentum = nonNegative(fn, "state.momentum", dict.momentum);
    if (typeof dict.nesterov !== "boolean") throw new TypeError(`${fn}: state.nesterov must be a boolean, received ${describe(dict.nesterov)}`);
    if (dict.nesterov && momentum === 0) throw new RangeError(`${fn}: state.nesterov needs state.momentum > 0, received momentum 0`);
    const restored = entries.map((e: unknown, i): SGDParamState | null => {
      if (e === null) return null;
      if (typeof e !== "object") throw new TypeError(`${fn}: state.state[${i}] must be an object or null, received ${describe(e)}`);
      const s = e as Record<string, unknown>;
      const buffer = s.momentumBuffer === null ? null : checkMoment(fn, `state.state[${i}].momentumBuffer`, s.momentumBuffer, this.#groups.params[i].numel).slice();
      return { step: checkStep(fn, `state.state[${i}].step`, s.step), momentumBuffer: buffer };
    });
    this.#groups.applyGroupSettings(groups);
    this.#momentum = momentum;
    this.#nesterov = dict.nesterov;
    this.#state = restored;
  }
}

// ------------------------------------------------------------------------ clipping

/**
 * Clips gradients by their global L2 norm, like torch.nn.utils.clip_grad_norm_: computes the
 * norm of all gradients together (float64 accumulation) and, when maxNorm / (norm + 1e-6) < 1,
 * scales every gradient in place by that factor. Parameters without a gradient are skipped; a
 * tensor listed twice counts once.
 * Returns the norm before clipping; a non-finite norm is returned as is and the gradients are
 * left untouched (the caller decides what to do with the step).
 * @param params parameters whose `grad` to clip.
 * @param maxNorm largest allowed norm, > 0 (Infinity only measures).
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  const fn = "clipGradNorm";
  if (!Array.isArray(params)) throw new TypeError(`${fn}: params must be an array of Tensors, received ${describe(params)}`);
  checkNumber(fn, "maxNorm", maxNorm, "a number > 0", (v) => v > 0);
  // A tensor listed twice (a tied weight) counts once, as in model.parameters().
  const grads = new Set<Float32Array>();
  params.forEach((p: unknown, i) => {
    if (!(p instanceof Tensor)) throw new TypeError(`${fn}: params[${i}] must be a Tensor, received ${describe(p)}`);
    if (p.disposed) throw new TypeError(`${fn}: params[${i}] was disposed`);
    const g = gradientData(fn, p as Tensor<"f32">, i);
    if (g !== null) grads.add(g);
  });
  let sumSquares = 0;
  for (const g of grads) {
    // Large gradients on the native kernel (threaded, float64, a fixed summation order).
    if (g.length >= native.NATIVE_MIN_ELEMENTS) {
      sumSquares += native.sumSquares(g);
      continue;
    }
    for (let i = 0; i < g.length; i++) sumSquares += g[i] * g[i];
  }
  const norm = Math.sqrt(sumSquares);
  if (!Number.isFinite(norm)) return norm;
  const coefficient = maxNorm / (norm + 1e-6);
  if (coefficient < 1) {
    for (const g of grads) {
      for (let i = 0; i < g.length; i++) g[i] *= coefficient;
    }
  }
  return norm;
}
