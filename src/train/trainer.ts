// The training loop: async (it yields to the event loop after every step, so stop() or a
// notebook interrupt lands on a step boundary with the model intact), deterministic (a seeded
// data generator; checkpoints hold everything a resumed run needs to continue bit-identically),
// and observable (metrics history as an Arrow table, callbacks, a progress hook).
import { ProgressBar } from "../viz/progress";
import { InterruptedError, onInterrupt } from "../runtime/interrupt";
import { Table, tableFromArrays } from "apache-arrow";
import { Tensor } from "../tensor/tensor";
import { tidy } from "../tensor/scope";
import { Generator, GeneratorState, defaultGenerator } from "../tensor/random";
import { describe } from "../tensor/dtype";
import { noGrad } from "../autograd/tape";
import { readSafetensors, writeSafetensors } from "../io/safetensors";
import { Optimizer, OptimizerStateDict, clipGradNorm } from "./optim";
import { Schedule } from "./schedule";
import { checkInteger } from "../validate";

/** What the trainer needs from a model (implemented by nn's Module). */
export interface TrainableModel {
  namedParameters(): [string, Tensor<"f32">][];
  stateDict(): Map<string, Tensor>;
  loadStateDict(state: Map<string, Tensor>, opts?: { strict?: boolean }): unknown;
  train(mode?: boolean): unknown;
  eval(): unknown;
}

/** One row of the metrics history. */
export interface TrainingMetrics {
  step: number;
  loss: number;
  /** Validation loss when this step ran an evaluation, else null. */
  evalLoss: number | null;
  lr: number;
  /** Global L2 norm of the gradients before clipping. */
  gradNorm: number;
  tokensPerSecond: number;
  /** Seconds since the first fit() began, across resumes. */
  elapsedSeconds: number;
}

/** Progress, for a notebook progress bar. */
export interface TrainingProgress {
  step: number;
  totalSteps: number;
  loss: number;
  evalLoss: number | null;
  tokensPerSecond: number;
  elapsedSeconds: number;
  /** Estimated seconds to the end of this fit() call. */
  remainingSeconds: number;
}

export interface TrainerOptions<B> {
  model: TrainableModel;
  optimizer: Optimizer;
  /** The batch for `step`, drawn from the trainer's seeded data generator. */
  nextBatch: (generator: Generator, step: number) => B;
  /** The loss of a batch: a scalar tensor on the tape. */
  loss: (batch: B) => Tensor<"f32">;
  /** Tokens (or samples) in a batch, for the throughput figure (default 1). */
  batchSize?: (batch: B) => number;
  /** Frees a batch's tensors after its step (default: dispose every Tensor property). */
  disposeBatch?: (batch: B) => void;
  /** Validation loss, evaluated under noGrad with the model in eval mode. */
  evaluate?: () => number;
  /** Learning rate and weight decay per step (default: the optimizer's settings, unchanged). */
  schedule?: Schedule;
  /** Clip the global gradient norm to this (default: no clipping, but the norm is still reported). */
  gradClip?: number;
  /** Micro-batches whose gradients are summed into each step (default 1): loss is averaged over them. */
  accumulationSteps?: number;
  /** Seed of the data generator (default 0). */
  seed?: number;
  /**
   * Groups of the optimizer that take the schedule's weight decay (default [0]: AdamW.defaultGroups
   * puts the decayed 2-D weights first); the others keep theirs.
   */
  weightDecayGroups?: number[];
  /** Called before each step, e.g. to set BitLinear's quantization warm-up lambda. */
  beforeStep?: (step: number) => void;
}

export interface FitOptions {
  /** Steps to run in this call (from the current step). */
  steps: number;
  /** Evaluate every this many steps (and after the last one); 0 = never (default 0). */
  evalEvery?: number;
  /** Write a checkpoint to `checkpointPath` every this many steps and at the end (default 0 = only at the end, when a path is given). */
  checkpointEvery?: number;
  checkpointPath?: string;
  onStep?: (metrics: TrainingMetrics) => void;
  onEval?: (step: number, evalLoss: number) => void;
  onProgress?: (progress: TrainingProgress) => void;
  /**
   * Show a progress bar (default true): in a notebook one output updated in place, on a terminal
   * one rewritten line, elsewhere nothing.
   */
  progress?: boolean;
}

export interface FitResult {
  /** Steps completed by the trainer in total (its current step). */
  step: number;
  /** Whether stop() ended this call before `steps`. */
  stopped: boolean;
  /** The last step's loss. */
  loss: number;
}

/** A non-finite loss or gradient: training stopped at `step` with the model as it was before it. */
export class TrainingDivergedError extends Error {
  constructor(
    message: string,
    readonly step: number,
  ) {
    super(message);
    this.name = "TrainingDivergedError";
  }
}

const CHECKPOINT_FORMAT = "bitnet-lab/trainer-checkpoint/1";

function defaultDispose(batch: unknown): void {
  if (batch instanceof Tensor) {
    batch.dispose();
    return;
  }
  if (batch !== null && typeof batch === "object") {
    for (const v of Object.values(batch)) if (v instanceof Tensor) v.dispose();
  }
}

function generatorToJson(s: GeneratorState): { seed: string; offset: string } {
  return { seed: s.seed.toString(), offset: s.offset.toString() };
}

function generatorFromJson(v: unknown, what: string): GeneratorState {
  const o = v as { seed?: unknown; offset?: unknown };
  if (!o || typeof o.seed !== "string" || typeof o.offset !== "string") throw new Error(`${what} is missing or malformed`);
  return { seed: BigInt(o.seed), offset: BigInt(o.offset) };
}

/**
 * Trains a model: each step draws a batch from the seeded data generator, runs forward and
 * backward (summing gradients over `accumulationSteps` micro-batches), clips the gradient norm,
 * applies the schedule and steps the optimizer. A non-finite loss or gradient norm stops
 * training with a {@link TrainingDivergedError} naming the step, before the optimizer touches
 * the weights.
 */
export class Trainer<B = unknown> {
  /** Optimizer steps taken so far (restored by loadCheckpoint). */
  step = 0;
  /** The data generator (its state is part of a checkpoint). */
  readonly generator: Generator;
  readonly #opts: TrainerOptions<B>;
  readonly #history: TrainingMetrics[] = [];
  readonly #decayGroups: number[];
  #elapsedBefore = 0;
  #stopRequested = false;
  #running = false;

  constructor(opts: TrainerOptions<B>) {
    const fn = "Trainer";
    if (opts === null || typeof opts !== "object") throw new TypeError(`${fn}: options must be an object, received ${describe(opts)}`);
    if (!opts.model || typeof opts.model.namedParameters !== "function") throw new TypeError(`${fn}: model must be a Module, received ${describe(opts.model)}`);
    if (!opts.optimizer || typeof opts.optimizer.step !== "function") throw new TypeError(`${fn}: optimizer must be an optimizer (AdamW, SGD), received ${describe(opts.optimizer)}`);
    if (typeof opts.nextBatch !== "function") throw new TypeError(`${fn}: nextBatch must be a function, received ${describe(opts.nextBatch)}`);
    if (typeof opts.loss !== "function") throw new TypeError(`${fn}: loss must be a function, received ${describe(opts.loss)}`);
    if (opts.gradClip !== undefined && !(typeof opts.gradClip === "number" && opts.gradClip > 0 && Number.isFinite(opts.gradClip))) {
      throw new RangeError(`${fn}: gradClip must be a finite number > 0, received ${describe(opts.gradClip)}`);
    }
    checkInteger(fn, "accumulationSteps", opts.accumulationSteps ?? 1, 1);
    const seed = opts.seed ?? 0;
    if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`${fn}: seed must be a non-negative safe integer, received ${describe(seed)}`);
    this.#opts = opts;
    this.generator = new Generator(seed);
    const groups = opts.weightDecayGroups ?? [0];
    if (!Array.isArray(groups) || groups.some((g) => !Number.isInteger(g) || g < 0 || g >= opts.optimizer.paramGroups.length)) {
      throw new RangeError(`${fn}: weightDecayGroups must list group indices below ${opts.optimizer.paramGroups.length}, received ${describe(groups)}`);
    }
    this.#decayGroups = groups.slice();
  }

  /** Asks a running fit() to stop after the current step. */
  stop(): void {
    this.#stopRequested = true;
  }

  /** Whether fit() is running. */
  get running(): boolean {
    return this.#running;
  }

  /** The metrics of every step so far (copies). */
  get history(): TrainingMetrics[] {
    return this.#history.map((r) => ({ ...r }));
  }

  /** The metrics history as an Arrow table (evalLoss null where no evaluation ran). */
  metricsTable(): Table {
    const h = this.#history;
    return tableFromArrays({
      step: Int32Array.from(h, (r) => r.step),
      loss: Float64Array.from(h, (r) => r.loss),
      evalLoss: h.map((r) => r.evalLoss),
      lr: Float64Array.from(h, (r) => r.lr),
      gradNorm: Float64Array.from(h, (r) => r.gradNorm),
      tokensPerSecond: Float64Array.from(h, (r) => r.tokensPerSecond),
      elapsedSeconds: Float64Array.from(h, (r) => r.elapsedSeconds),
    });
  }

  /** Validation loss now (noGrad, eval mode), or throws when no `evaluate` was given. */
  evaluate(): number {
    const evaluate = this.#opts.evaluate;
    if (!evaluate) throw new Error("Trainer.evaluate: no evaluate function was given to the Trainer");
    const model = this.#opts.model;
    model.eval();
    try {
      return noGrad(() => tidy(() => evaluate()));
    } finally {
      model.train();
    }
  }

  /**
   * Runs `steps` optimizer steps from the current step, yielding to the event loop after each.
   * Resolves when done or stopped; rejects with TrainingDivergedError on a non-finite loss, and
   * with InterruptedError when interruptRunning() (the kernel's interrupt) ends it between steps.
   */
  async fit(opts: FitOptions): Promise<FitResult> {
    const fn = "Trainer.fit";
    if (opts === null || typeof opts !== "object") throw new TypeError(`${fn}: options must be an object like { steps }, received ${describe(opts)}`);
    const steps = checkInteger(fn, "steps", opts.steps, 0);
    const evalEvery = checkInteger(fn, "evalEvery", opts.evalEvery ?? 0, 0);
    const checkpointEvery = checkInteger(fn, "checkpointEvery", opts.checkpointEvery ?? 0, 0);
    if (evalEvery > 0 && !this.#opts.evaluate) throw new Error(`${fn}: evalEvery needs an evaluate function in the Trainer options`);
    if (opts.checkpointPath !== undefined && (typeof opts.checkpointPath !== "string" || opts.checkpointPath === "")) {
      throw new TypeError(`${fn}: checkpointPath must be a non-empty string, received ${describe(opts.checkpointPath)}`);
    }
    if (this.#running) throw new Error(`${fn}: this trainer is already running`);
    this.#running = true;
    this.#stopRequested = false;
    let interrupted = false;
    const removeInterrupt = onInterrupt(() => {
      interrupted = true;
      this.#stopRequested = true;
    });
    const { model } = this.#opts;
    const params = model.namedParameters().map(([, p]) => p);
    const endStep = this.step + steps;
    const startedAt = performance.now();
    const elapsedAtStart = this.#elapsedBefore;
    let lastLoss = NaN;
    let stopped = false;
    const bar = opts.progress === false ? null : new ProgressBar({ total: steps, label: "training" });
    model.train();
    try {
      for (let i = 0; i < steps; i++) {
        if (this.#stopRequested) {
          // An interrupt (the notebook's stop button) ends the cell too: the loop stops here,
          // between steps, with the model and optimizer consistent.
          if (interrupted) throw new InterruptedError(`${fn}: interrupted before step ${this.step + 1} (the model and optimizer hold step ${this.step}; fit() again to continue)`);
          stopped = true;
          break;
        }
        const stepStart = performance.now();
        const { loss, lr, gradNorm, items } = this.#trainStep(params);
        lastLoss = loss;
        const now = performance.now();
        const metrics: TrainingMetrics = {
          step: this.step,
          loss,
          evalLoss: null,
          lr,
          gradNorm,
          tokensPerSecond: items / ((now - stepStart) / 1000),
          elapsedSeconds: elapsedAtStart + (now - startedAt) / 1000,
        };
        this.#elapsedBefore = metrics.elapsedSeconds;
        const last = this.step === endStep;
        if (evalEvery > 0 && (this.step % evalEvery === 0 || last)) {
          metrics.evalLoss = this.evaluate();
          opts.onEval?.(this.step, metrics.evalLoss);
        }
        this.#history.push(metrics);
        opts.onStep?.({ ...metrics });
        if (bar !== null) {
          const info: Record<string, number> = { step: this.step, loss: metrics.loss };
          if (metrics.evalLoss !== null) info["eval loss"] = metrics.evalLoss;
          info["tokens/s"] = Math.round(metrics.tokensPerSecond);
          info.remainingSeconds = ((performance.now() - startedAt) / 1000 / (i + 1)) * (steps - i - 1);
          bar.update(i + 1, info);
        }
        if (opts.onProgress) {
          const done = i + 1;
          const perStep = (performance.now() - startedAt) / 1000 / done;
          opts.onProgress({
            step: this.step,
            totalSteps: endStep,
            loss: metrics.loss,
            evalLoss: metrics.evalLoss,
            tokensPerSecond: metrics.tokensPerSecond,
            elapsedSeconds: metrics.elapsedSeconds,
            remainingSeconds: perStep * (steps - done),
          });
        }
        if (opts.checkpointPath && checkpointEvery > 0 && this.step % checkpointEvery === 0 && !last) {
          this.saveCheckpoint(opts.checkpointPath);
        }
        // Let timers, I/O and interrupts run between steps.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (opts.checkpointPath) this.saveCheckpoint(opts.checkpointPath);
    } finally {
      this.#running = false;
      removeInterrupt();
      bar?.close();
    }
    return { step: this.step, stopped, loss: lastLoss };
  }

  /** One optimizer step; `items` counts the tokens (or samples) it trained on. */
  #trainStep(params: Tensor<"f32">[]): { loss: number; lr: number; gradNorm: number; items: number } {
    const o = this.#opts;
    const step = this.step;
    const accumulation = o.accumulationSteps ?? 1;
    let lr = o.optimizer.paramGroups[0]?.lr ?? 0;
    if (o.schedule) {
      const s = o.schedule(step);
      lr = s.lr;
      o.optimizer.setLr(s.lr);
      for (const g of this.#decayGroups) o.optimizer.setWeightDecay(s.weightDecay, g);
    }
    o.beforeStep?.(step);
    let lossSum = 0;
    let items = 0;
    for (let micro = 0; micro < accumulation; micro++) {
      const batch = o.nextBatch(this.generator, step);
      try {
        items += o.batchSize ? o.batchSize(batch) : 1;
        const value = tidy(() => {
          const loss = o.loss(batch);
          if (!(loss instanceof Tensor) || loss.numel !== 1) {
            throw new TypeError(`Trainer: loss must return a scalar Tensor, received ${describe(loss)}`);
          }
          const v = loss.item();
          if (!Number.isFinite(v)) return v;
          if (accumulation === 1) {
            loss.backward();
          } else {
            const g = Tensor.empty([...loss.shape], "f32");
            g.data()[0] = 1 / accumulation;
            loss.backward(g);
          }
          return v;
        });
        if (!Number.isFinite(value)) {
          o.optimizer.zeroGrad();
          throw new TrainingDivergedError(`Trainer: the loss is ${value} at step ${step} (micro-batch ${micro}); training stopped before the optimizer step, the weights are those after step ${step - 1}`, step);
        }
        lossSum += value;
      } finally {
        (o.disposeBatch ?? defaultDispose)(batch);
      }
    }
    const gradNorm = clipGradNorm(params, o.gradClip ?? Infinity);
    if (!Number.isFinite(gradNorm)) {
      o.optimizer.zeroGrad();
      throw new TrainingDivergedError(`Trainer: the gradient norm is ${gradNorm} at step ${step}; training stopped before the optimizer step`, step);
    }
    noGrad(() => o.optimizer.step());
    o.optimizer.zeroGrad();
    this.step = step + 1;
    return { loss: lossSum / accumulation, lr, gradNorm, items };
  }

  /**
   * Writes model, optimizer, data generator, step and history to a safetensors file (temp file,
   * fsync, rename): `model.<name>` and `optimizer.<i>.<moment>` tensors, the rest as metadata.
   */
  saveCheckpoint(filePath: string): void {
    const { model, optimizer } = this.#opts;
    const tensors = new Map<string, Tensor>();
    const temps: Tensor[] = [];
    for (const [name, t] of model.stateDict()) tensors.set(`model.${name}`, t);
    const state = optimizer.stateDict();
    const scalars = JSON.parse(
      JSON.stringify(state, (key, value) => {
        if (value instanceof Float32Array) return undefined;
        return value;
      }),
    );
    state.state.forEach((s, i) => {
      if (s === null) return;
      for (const [key, value] of Object.entries(s)) {
        if (value instanceof Float32Array) {
          const t = Tensor.wrap(value, [value.length], "f32");
          temps.push(t);
          tensors.set(`optimizer.${i}.${key}`, t);
        }
      }
    });
    try {
      writeSafetensors(filePath, tensors, {
        format: CHECKPOINT_FORMAT,
        step: String(this.step),
        elapsed_seconds: String(this.#elapsedBefore),
        model_signature: JSON.stringify(model.namedParameters().map(([n, p]) => [n, p.shape])),
        optimizer: JSON.stringify(scalars),
        generator: JSON.stringify(generatorToJson(this.generator.getState())),
        default_generator: JSON.stringify(generatorToJson(defaultGenerator.getState())),
        history: JSON.stringify(this.#history),
      });
    } finally {
      for (const t of temps) t.dispose();
    }
  }

  /**
   * Restores a checkpoint written by saveCheckpoint for the same model architecture; the run
   * then continues exactly as if it had never stopped.
   */
  loadCheckpoint(filePath: string): void {
    const fn = "Trainer.loadCheckpoint";
    if (this.#running) throw new Error(`${fn}: cannot load while fit() is running`);
    const { tensors, metadata } = readSafetensors(filePath);
    try {
      if (metadata.format !== CHECKPOINT_FORMAT) {
        throw new Error(`${fn}: '${filePath}' is not a bitnet-lab trainer checkpoint (format ${describe(metadata.format)})`);
      }
      const { model, optimizer } = this.#opts;
      const here = model.namedParameters().map(([n, p]) => [n, p.shape] as [string, readonly number[]]);
      const there = JSON.parse(metadata.model_signature ?? "[]") as [string, number[]][];
      const thereMap = new Map(there);
      for (const [name, shape] of here) {
        const other = thereMap.get(name);
        if (other === undefined) throw new Error(`${fn}: '${filePath}' is a checkpoint of another model: it has no parameter '${name}'`);
        if (other.join(",") !== shape.join(",")) {
          throw new Error(`${fn}: '${filePath}' is a checkpoint of another model: parameter '${name}' is [${other.join(", ")}] there and [${shape.join(", ")}] here`);
        }
      }
      if (there.length !== here.length) {
        const extra = there.find(([n]) => !here.some(([m]) => m === n));
        throw new Error(`${fn}: '${filePath}' is a checkpoint of another model: it has parameter '${extra?.[0]}' that this model does not`);
      }
      const modelState = new Map<string, Tensor>();
      for (const [name, t] of tensors) if (name.startsWith("model.")) modelState.set(name.slice(6), t);
      const scalars = JSON.parse(metadata.optimizer ?? "null") as OptimizerStateDict;
      scalars.state.forEach((s, i) => {
        if (s === null) return;
        const rec = s as unknown as Record<string, unknown>;
        for (const [name, t] of tensors) {
          const prefix = `optimizer.${i}.`;
          if (name.startsWith(prefix)) rec[name.slice(prefix.length)] = Float32Array.from(t.data() as Float32Array);
        }
      });
      // The signature check above means the model state fits; the optimizer validates its state
      // before changing anything, so it goes first and a bad file leaves the trainer as it was.
      optimizer.loadStateDict(scalars);
      model.loadStateDict(modelState, { strict: true });
      this.generator.setState(generatorFromJson(JSON.parse(metadata.generator ?? "null"), `${fn}: the data generator state`));
      defaultGenerator.setState(generatorFromJson(JSON.parse(metadata.default_generator ?? "null"), `${fn}: the default generator state`));
      this.step = Number(metadata.step);
      this.#elapsedBefore = Number(metadata.elapsed_seconds ?? 0);
      this.#history.length = 0;
      for (const row of JSON.parse(metadata.history ?? "[]") as TrainingMetrics[]) this.#history.push(row);
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  }
}
