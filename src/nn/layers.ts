// The basic layers: Linear, BitLinear, Embedding and RMSNorm, each a Module around one op of
// src/ops. Weights are drawn from a seeded Generator so a model is a function of its seed.
import { Tensor } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import { ones, randn } from "../tensor/create";
import { Generator, defaultGenerator } from "../tensor/random";
import { embedding, linear, rmsNorm } from "../ops";
import { bitLinear } from "../ops/bitlinear";
import { quantizeWeightsTernary } from "../quant";
import { Module } from "./module";
import { checkPositiveInteger } from "../validate";

/** Options of the layers with random weights. */
export interface InitOptions {
  /**
   * Generator the N(0, 0.02) initial weights are drawn from (default: the global
   * `defaultGenerator`, seeded with `manualSeed`). Passing one generator to every layer of a
   * model, in construction order, makes the model a function of that generator's seed.
   */
  generator?: Generator;
}

/** Options of `BitLinear`. */
export interface BitLinearLayerOptions extends InitOptions {
  /** Quantization strength in [0, 1] (default 1, the recipe); see `BitLinear.lambda`. */
  lambda?: number;
  /** Precision of the backward GEMMs, "fp32" (default) or "bf16" (see bitLinear). */
  backwardPrecision?: "fp32" | "bf16";
}

/** Standard deviation of the initial weights (the BitNet/LLaMA initializer_range). */
export const INIT_STD = 0.02;

/** Throws unless `opts` is undefined or a plain options object. */
export function checkOptionsObject(fn: string, opts: unknown, example: string): void {
  if (opts !== undefined && (opts === null || typeof opts !== "object" || Array.isArray(opts))) {
    throw new TypeError(`${fn}: options must be an object like ${example}, received ${describe(opts)}`);
  }
}

function generatorOf(fn: string, opts: InitOptions | undefined): Generator {
  const g = opts?.generator;
  if (g === undefined) return defaultGenerator;
  if (!(g instanceof Generator)) throw new TypeError(`${fn}: generator must be a Generator, received ${describe(g)}`);
  return g;
}

function checkLambda(fn: string, lambda: unknown): asserts lambda is number {
  if (typeof lambda !== "number") throw new TypeError(`${fn}: lambda must be a number in [0, 1], received ${describe(lambda)}`);
  if (!(lambda >= 0 && lambda <= 1)) throw new RangeError(`${fn}: lambda must be a number in [0, 1], received ${lambda}`);
}

/** Throws unless `x` is a live f32 tensor whose last dimension is `features`. */
function checkFeatures(fn: string, x: unknown, features: number): asserts x is Tensor<"f32"> {
  if (!(x instanceof Tensor)) throw new TypeError(`${fn}: x must be a Tensor, received ${describe(x)}`);
  if (x.disposed) throw new Error(`${fn}: x was disposed`);
  if (x.dtype !== "f32") throw new TypeError(`${fn}: x must have dtype 'f32', received '${x.dtype}'`);
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== features) {
    throw new RangeError(`${fn}: x must have shape [..., ${features}], received [${x.shape.join(", ")}]`);
  }
}

/**
 * Full-precision linear layer without bias: y = x @ W^T, x [..., inFeatures] ->
 * [..., outFeatures]. `weight` is [outFeatures, inFeatures], initialised N(0, 0.02).
 */
export class Linear extends Module {
  /** [outFeatures, inFeatures]. */
  readonly weight: Tensor<"f32">;
  /** Size of the last dimension of the input. */
  readonly inFeatures: number;
  /** Size of the last dimension of the output. */
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, opts?: InitOptions) {
    super();
    checkPositiveInteger("Linear", "inFeatures", inFeatures);
    checkPositiveInteger("Linear", "outFeatures", outFeatures);
    checkOptionsObject("Linear", opts, "{ generator }");
    const g = generatorOf("Linear", opts);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = this.registerParameter("weight", randn([outFeatures, inFeatures], { generator: g, std: INIT_STD }));
  }

  /** x [..., inFeatures] -> [..., outFeatures]. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    this.checkLive("forward");
    checkFeatures("Linear.forward", x, this.inFeatures);
    return linear(x, this.weight);
  }

  protected override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}`;
  }
}

/**
 * BitNet b1.58 linear layer without bias (src/ops/bitlinear.ts): the fp32 latent `weight`
 * ([outFeatures, inFeatures], initialised N(0, 0.02)) is quantized to {-1, 0, +1} times its
 * absmean on every call, the input to int8 per token (absmax), and gradients reach the latent
 * weight through the straight-through estimator. The input should be normalised (RMSNorm) first:
 * the recipe puts a norm before every BitLinear.
 */
export class BitLinear extends Module {
  /** Latent fp32 weight [outFeatures, inFeatures]. */
  readonly weight: Tensor<"f32">;
  /** Size of the last dimension of the input. */
  readonly inFeatures: number;
  /** Size of the last dimension of the output. */
  readonly outFeatures: number;
  #lambda: number;
  /** Precision of the backward GEMMs (see bitLinear's backwardPrecision). */
  readonly backwardPrecision: "fp32" | "bf16";

  constructor(inFeatures: number, outFeatures: number, opts?: BitLinearLayerOptions) {
    super();
    checkPositiveInteger("BitLinear", "inFeatures", inFeatures);
    checkPositiveInteger("BitLinear", "outFeatures", outFeatures);
    checkOptionsObject("BitLinear", opts, "{ generator, lambda, backwardPrecision }");
    const lambda = opts?.lambda ?? 1;
    checkLambda("BitLinear", lambda);
    const precision = opts?.backwardPrecision ?? "fp32";
    if (precision !== "fp32" && precision !== "bf16") {
      throw new RangeError(`BitLinear: backwardPrecision must be 'fp32' or 'bf16', received ${describe(precision)}`);
    }
    this.backwardPrecision = precision;
    const g = generatorOf("BitLinear", opts);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.#lambda = lambda;
    this.weight = this.registerParameter("weight", randn([outFeatures, inFeatures], { generator: g, std: INIT_STD }));
  }

  /**
   * Quantization strength in [0, 1]: 1 (default) is the full recipe, 0 is a plain fp32 linear,
   * values between blend the two (w~ = w + lambda * (quant(w) - w), same for x). Set it to
   * min(step / N, 1) to ramp quantization in when converting a float model.
   */
  get lambda(): number {
    return this.#lambda;
  }

  set lambda(value: number) {
    checkLambda("BitLinear.lambda", value);
    this.#lambda = value;
  }

  /** x [..., inFeatures] -> [..., outFeatures]. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    this.checkLive("forward");
    checkFeatures("BitLinear.forward", x, this.inFeatures);
    return bitLinear(x, this.weight, { lambda: this.#lambda, backwardPrecision: this.backwardPrecision });
  }

  /**
   * The ternary codes ({-1, 0, +1}, i8 [outFeatures, inFeatures]) the forward pass uses: the
   * per-tensor absmean quantization of the latent weight. A new tensor; the caller disposes it.
   */
  ternaryCodes(): Tensor<"i8"> {
    this.checkLive("ternaryCodes");
    const q = quantizeWeightsTernary(this.weight);
    q.scales.dispose();
    return q.codes;
  }

  protected override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, lambda=${this.#lambda}`;
  }
}

/**
 * Token embedding: ids (i32, any shape) -> rows of `weight` [numEmbeddings, embeddingDim],
 * shape [...ids.shape, embeddingDim]. `weight` is initialised N(0, 0.02).
 */
export class Embedding extends Module {
  /** [numEmbeddings, embeddingDim]. */
  readonly weight: Tensor<"f32">;
  /** Number of rows (the vocabulary size). */
  readonly numEmbeddings: number;
  /** Size of each row. */
  readonly embeddingDim: number;

  constructor(numEmbeddings: number, embeddingDim: number, opts?: InitOptions) {
    super();
    checkPositiveInteger("Embedding", "numEmbeddings", numEmbeddings);
    checkPositiveInteger("Embedding", "embeddingDim", embeddingDim);
    checkOptionsObject("Embedding", opts, "{ generator }");
    const g = generatorOf("Embedding", opts);
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.weight = this.registerParameter("weight", randn([numEmbeddings, embeddingDim], { generator: g, std: INIT_STD }));
  }

  /** ids (i32, every id in [0, numEmbeddings)) -> [...ids.shape, embeddingDim]. */
  forward(ids: Tensor<"i32">): Tensor<"f32"> {
    this.checkLive("forward");
    return embedding(this.weight, ids);
  }

  protected override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}`;
  }
}

/** Options of `RMSNorm`. */
export interface RMSNormOptions {
  /** Added to the mean square before the square root (default 1e-5, finite and > 0). */
  eps?: number;
}

/**
 * RMSNorm over the last dimension: y = x / sqrt(mean(x^2) + eps) * weight, x [..., dim].
 * `weight` [dim] starts at ones.
 */
export class RMSNorm extends Module {
  /** Per-feature scale [dim]. */
  readonly weight: Tensor<"f32">;
  /** Size of the normalised (last) dimension. */
  readonly dim: number;
  /** Added to the mean square before the square root. */
  readonly eps: number;

  constructor(dim: number, opts?: RMSNormOptions) {
    super();
    checkPositiveInteger("RMSNorm", "dim", dim);
    checkOptionsObject("RMSNorm", opts, "{ eps }");
    const eps = opts?.eps ?? 1e-5;
    if (typeof eps !== "number") throw new TypeError(`RMSNorm: eps must be a finite number > 0, received ${describe(eps)}`);
    if (!(eps > 0 && Number.isFinite(eps))) throw new RangeError(`RMSNorm: eps must be a finite number > 0, received ${eps}`);
    this.dim = dim;
    this.eps = eps;
    this.weight = this.registerParameter("weight", ones([dim]));
  }

  /** x [..., dim] -> [..., dim]. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    this.checkLive("forward");
    checkFeatures("RMSNorm.forward", x, this.dim);
    return rmsNorm(x, this.weight, this.eps);
  }

  protected override extraRepr(): string {
    return `${this.dim}, eps=${this.eps}`;
  }
}
