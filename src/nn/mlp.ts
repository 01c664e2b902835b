// A multilayer perceptron classifier built from BitLinear (or Linear) layers: the small model of
// the MNIST notebook and benchmark.
import { Tensor } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import { formatShape } from "../tensor/shape";
import { Generator } from "../tensor/random";
import { relu, relu2, silu } from "../ops";
import { Module, ModuleList, scopedForward } from "./module";
import { BitLinear, Linear, RMSNorm } from "./layers";
import { LinearKind } from "./bitnet";
import { checkChoice, checkPositiveInteger } from "../validate";

/** Options of `MLPClassifier`. */
export interface MLPClassifierOptions {
  /** Layer widths, input first and classes last, e.g. [784, 512, 512, 10] (at least 2 entries). */
  sizes: readonly number[];
  /** Hidden projections: "bitnet" (BitLinear, default) or "fp32" (Linear). */
  linear?: LinearKind;
  /** Activation after each hidden projection (default "relu"). */
  activation?: "relu" | "relu2" | "silu";
  /** Seed of the Generator the weights are drawn from (default 0). */
  seed?: number | bigint;
}

/**
 * A multilayer perceptron classifier: for each hidden layer i, RMSNorm (norms.i) then a
 * projection (hidden.i, BitLinear or Linear) then the activation; a full-precision `head`
 * (Linear) gives the logits. The RMSNorm before every BitLinear is part of the recipe: the
 * per-token absmax int8 quantization of the input and the absmean ternary weights only train
 * stably on normalised inputs (BitLinear dropped into an MLP without it does not converge). The
 * "fp32" baseline keeps the same norms so the two differ only in quantization.
 */
export class MLPClassifier extends Module {
  /** Layer widths, input first. */
  readonly sizes: readonly number[];
  /** Kind of the hidden projections. */
  readonly linear: LinearKind;
  /** Activation after each hidden projection. */
  readonly activation: "relu" | "relu2" | "silu";
  /** RMSNorm before hidden projection i. */
  readonly norms: ModuleList<RMSNorm>;
  /** The hidden projections. */
  readonly hidden: ModuleList<BitLinear | Linear>;
  /** Full-precision output layer [classes, last hidden width]. */
  readonly head: Linear;

  constructor(opts: MLPClassifierOptions) {
    super();
    const fn = "MLPClassifier";
    if (opts === null || typeof opts !== "object" || Array.isArray(opts)) {
      throw new TypeError(`${fn}: options must be an object like { sizes: [784, 512, 10] }, received ${describe(opts)}`);
    }
    const sizes = opts.sizes;
    if (!Array.isArray(sizes)) throw new TypeError(`${fn}: sizes must be an array of positive integers, received ${describe(sizes)}`);
    if (sizes.length < 2) throw new RangeError(`${fn}: sizes must list at least the input and output widths, received ${sizes.length} entries`);
    sizes.forEach((s, i) => checkPositiveInteger(fn, `sizes[${i}]`, s));
    const kind = opts.linear ?? "bitnet";
    checkChoice(fn, "linear", kind, ["bitnet", "fp32"]);
    const activation = opts.activation ?? "relu";
    checkChoice(fn, "activation", activation, ["relu", "relu2", "silu"]);
    const seed = opts.seed ?? 0;
    if (typeof seed !== "number" && typeof seed !== "bigint") throw new TypeError(`${fn}: seed must be a non-negative integer, received ${describe(seed)}`);
    if (typeof seed === "number" && !(Number.isSafeInteger(seed) && seed >= 0)) throw new RangeError(`${fn}: seed must be a non-negative integer, received ${seed}`);
    const generator = new Generator(seed);
    this.sizes = Object.freeze(sizes.slice());
    this.linear = kind;
    this.activation = activation;
    const norms: RMSNorm[] = [];
    const hidden: (BitLinear | Linear)[] = [];
    for (let i = 0; i + 2 < sizes.length; i++) {
      norms.push(new RMSNorm(sizes[i]));
      hidden.push(kind === "bitnet" ? new BitLinear(sizes[i], sizes[i + 1], { generator }) : new Linear(sizes[i], sizes[i + 1], { generator }));
    }
    this.norms = this.registerModule("norms", new ModuleList(norms));
    this.hidden = this.registerModule("hidden", new ModuleList(hidden));
    this.head = this.registerModule("head", new Linear(sizes[sizes.length - 2], sizes[sizes.length - 1], { generator }));
  }

  /** x [B, sizes[0]] (f32) -> logits [B, sizes[last]]. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    this.checkLive("forward");
    const fn = "MLPClassifier.forward";
    if (!(x instanceof Tensor)) throw new TypeError(`${fn}: x must be an f32 Tensor [batch, ${this.sizes[0]}], received ${describe(x)}`);
    if (x.disposed) throw new Error(`${fn}: x was disposed`);
    if (x.dtype !== "f32") throw new TypeError(`${fn}: x must have dtype 'f32', received '${x.dtype}'`);
    if (x.ndim !== 2 || x.shape[1] !== this.sizes[0]) {
      throw new RangeError(`${fn}: x must have shape [batch, ${this.sizes[0]}], received ${formatShape(x.shape)}`);
    }
    const activate = this.activation === "relu" ? relu : this.activation === "relu2" ? relu2 : silu;
    return scopedForward(() => {
      let h = x;
      for (let i = 0; i < this.hidden.length; i++) h = activate(this.hidden.at(i).forward(this.norms.at(i).forward(h)));
      return this.head.forward(h);
    });
  }

  protected override extraRepr(): string {
    return `sizes=[${this.sizes.join(", ")}], linear=${this.linear}, activation=${this.activation}`;
  }
}
