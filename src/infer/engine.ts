// The inference engine: a packed BitNet b1.58 model run token by token with a preallocated KV
// cache. Prefill runs the prompt as one chunk on the int8 x ternary GEMM kernels; decode runs
// one token at a time (GEMV). The math is the training graph's eval forward: the same kernels in
// the same order, so a prefill's logits equal BitNetLM.forward's bit for bit.
import { addon } from "../backend/addon";
import { runKernel } from "../backend/hook";
import { noGrad } from "../autograd/tape";
import { InterruptedError, onInterrupt } from "../runtime/interrupt";
import { PackedTernary, quantizeActivationsInt8, ternaryMatmul } from "../quant";
import { add, mul, relu2, silu } from "../ops/elementwise";
import { linear } from "../ops/matmul";
import { rmsNorm } from "../ops/nn";
import { RopeTables, rope, ropeTables } from "../ops/attention";
import { Generator } from "../tensor/random";
import { Tensor } from "../tensor/tensor";
import { tidy, keep } from "../tensor/scope";
import { describe } from "../tensor/dtype";
import { PackedLayer, PackedModel } from "./pack";
import { ResolvedSampling, SamplingOptions, resolveSampling, sampleToken } from "./sampling";

/** Text to token ids and back (CharTokenizer, ByteTokenizer, or your own). */
export interface TokenizerLike {
  encode(text: string): ArrayLike<number>;
  decode(ids: ArrayLike<number>): string;
}

/** Options of {@link InferenceEngine.generate} and {@link InferenceEngine.stream}. */
export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to generate (default 64). */
  maxTokens?: number;
  /** Generation ends when the text produced ends with one of these (not included in the text). */
  stop?: readonly string[];
  /** Generation ends at one of these token ids (not included). */
  stopTokens?: readonly number[];
  /** Cancels a running generation (stream() returns, generate() resolves with what it has). */
  signal?: AbortSignal;
}

/** Timings of one generation. */
export interface GenerationStats {
  promptTokens: number;
  generatedTokens: number;
  /** Prompt tokens per second of the prefill. */
  prefillTokensPerSecond: number;
  /** Generated tokens per second of the decode steps (after the first token). */
  decodeTokensPerSecond: number;
  /** Milliseconds from the call to the first generated token. */
  timeToFirstTokenMs: number;
}

export interface GenerationResult {
  text: string;
  tokens: number[];
  finishReason: "stop" | "max_tokens" | "length" | "cancelled";
  stats: GenerationStats;
}

/** One generated token, as stream() yields it. */
export interface StreamedToken {
  token: number;
  /** The token's text (the decoded difference it adds). */
  text: string;
}

/** Runs a packed model with a KV cache of `maxLength` positions (default config.max_position_embeddings). */
export class InferenceEngine {
  readonly model: PackedModel;
  readonly maxLength: number;
  readonly tokenizer: TokenizerLike | null;
  readonly #tables: RopeTables;
  readonly #k: Tensor<"f32">[];
  readonly #v: Tensor<"f32">[];
  readonly #headDim: number;
  /** Positions filled in the cache. */
  #length = 0;
  #busy = false;
  #disposed = false;

  constructor(model: PackedModel, opts: { maxLength?: number; tokenizer?: TokenizerLike } = {}) {
    const fn = "InferenceEngine";
    if (!(model instanceof PackedModel)) throw new TypeError(`${fn}: model must be a PackedModel (packModel(lm)), received ${describe(model)}`);
    if (model.disposed) throw new Error(`${fn}: the packed model was disposed`);
    const c = model.config;
    const maxLength = opts.maxLength ?? c.max_position_embeddings;
    if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > c.max_position_embeddings) {
      throw new RangeError(`${fn}: maxLength must be an integer in [1, ${c.max_position_embeddings}] (config.max_position_embeddings), received ${describe(maxLength)}`);
    }
    if (opts.tokenizer !== undefined && (typeof opts.tokenizer?.encode !== "function" || typeof opts.tokenizer?.decode !== "function")) {
      throw new TypeError(`${fn}: tokenizer must have encode(text) and decode(ids), received ${describe(opts.tokenizer)}`);
    }
    this.model = model;
    this.maxLength = maxLength;
    this.tokenizer = opts.tokenizer ?? null;
    this.#headDim = c.hidden_size / c.num_attention_heads;
    this.#tables = ropeTables(maxLength, this.#headDim, c.rope_theta);
    const cacheShape = [maxLength, c.num_key_value_heads, this.#headDim];
    this.#k = model.layers.map(() => Tensor.empty(cacheShape, "f32", true, fn));
    this.#v = model.layers.map(() => Tensor.empty(cacheShape, "f32", true, fn));
  }

  /** Positions in the KV cache. */
  get length(): number {
    return this.#length;
  }

  /** Bytes of the KV cache. */
  get cacheBytes(): number {
    return this.#k.reduce((s, t) => s + 2 * t.nbytes, 0);
  }

  /** Empties the KV cache (a new conversation). */
  reset(): void {
    this.#length = 0;
  }

  #check(fn: string): void {
    if (this.#disposed) throw new Error(`${fn}: the engine was disposed`);
    if (this.model.disposed) throw new Error(`${fn}: the packed model was disposed`);
  }

  /**
   * Runs `ids` at the next positions of the cache and returns the logits: of every new position
   * ([ids.length, vocab]) when `all`, else of the last one ([1, vocab]).
   */
  forward(ids: ArrayLike<number>, opts: { all?: boolean } = {}): Tensor<"f32"> {
    const fn = "InferenceEngine.forward";
    this.#check(fn);
    const c = this.model.config;
    const T = ids.length;
    if (T < 1) throw new RangeError(`${fn}: ids must hold at least one token`);
    if (this.#length + T > this.maxLength) {
      throw new RangeError(`${fn}: ${T} more tokens do not fit: the cache holds ${this.#length} of ${this.maxLength} positions (maxLength)`);
    }
    const idArray = Int32Array.from(ids as ArrayLike<number>);
    for (let i = 0; i < T; i++) {
      if (!Number.isInteger(idArray[i]) || idArray[i] < 0 || idArray[i] >= c.vocab_size || idArray[i] !== (ids as ArrayLike<number>)[i]) {
        throw new RangeError(`${fn}: ids[${i}] must be a token id in [0, ${c.vocab_size}), received ${String((ids as ArrayLike<number>)[i])}`);
      }
    }
    const pos = this.#length;
    const out = noGrad(() =>
      tidy(() => {
        const d = c.hidden_size;
        let x = Tensor.empty([1, T, d], "f32", false, fn);
        const xd = x.data();
        const e = this.model.embedding.data();
        for (let i = 0; i < T; i++) xd.set(e.subarray(idArray[i] * d, idArray[i] * d + d), i * d);
        this.model.layers.forEach((layer, li) => {
          x = add(x, this.#attention(layer, li, rmsNorm(x, layer.inputNorm, c.rms_norm_eps), pos, T));
          x = add(x, this.#mlp(layer, rmsNorm(x, layer.postAttentionNorm, c.rms_norm_eps)));
        });
        const rows = opts.all ? x.reshape([T, d]) : x.reshape([T, d]).slice(0, T - 1, T);
        return keep(linear(rmsNorm(rows, this.model.norm, c.rms_norm_eps), this.model.head));
      }),
    );
    this.#length += T;
    return out;
  }

  /** x [1, T, d] -> ternary projection [1, T, n] (the BitLinear forward at lambda = 1). */
  #project(x: Tensor<"f32">, w: PackedTernary): Tensor<"f32"> {
    const [, T, k] = x.shape;
    const q = quantizeActivationsInt8(x.reshape([T, k]));
    try {
      return ternaryMatmul(q, w).reshape([1, T, w.shape[0]]);
    } finally {
      q.dispose();
    }
  }

  #attention(layer: PackedLayer, li: number, h: Tensor<"f32">, pos: number, T: number): Tensor<"f32"> {
    const c = this.model.config;
    const hd = this.#headDim;
    const Hq = c.num_attention_heads;
    const Hkv = c.num_key_value_heads;
    const q = rope(this.#project(h, layer.q).reshape([1, T, Hq, hd]), this.#tables, { offset: pos });
    const k = rope(this.#project(h, layer.k).reshape([1, T, Hkv, hd]), this.#tables, { offset: pos });
    const v = this.#project(h, layer.v);
    const span = Hkv * hd;
    this.#k[li].data().set(k.data(), pos * span);
    this.#v[li].data().set(v.data(), pos * span);
    const kvLen = pos + T;
    const out = Tensor.empty([1, T, Hq * hd], "f32", false, "InferenceEngine");
    const lse = new Float32Array(Hq * T);
    const scale = 1 / Math.sqrt(hd);
    runKernel("attentionForward", 4 * Hq * hd * T * kvLen, 4 * (q.numel * 2 + 2 * kvLen * span), () => `B=1 T=${T} kv=${kvLen} Hq=${Hq} Hkv=${Hkv} hd=${hd}`, () =>
      addon().attentionForward(q.data(), this.#k[li].data().subarray(0, kvLen * span), this.#v[li].data().subarray(0, kvLen * span), 1, T, kvLen, Hq, Hkv, hd, scale, out.data(), lse),
    );
    const y = layer.attnSubNorm ? rmsNorm(out, layer.attnSubNorm, c.rms_norm_eps) : out;
    return this.#project(y, layer.o);
  }

  #mlp(layer: PackedLayer, h: Tensor<"f32">): Tensor<"f32"> {
    const c = this.model.config;
    const activate = c.hidden_act === "relu2" ? relu2 : silu;
    const up = this.#project(h, layer.up);
    let y = layer.gate ? mul(activate(this.#project(h, layer.gate)), up) : activate(up);
    if (layer.ffnSubNorm) y = rmsNorm(y, layer.ffnSubNorm, c.rms_norm_eps);
    return this.#project(y, layer.down);
  }

  #encode(fn: string, prompt: string | ArrayLike<number>): number[] {
    if (typeof prompt === "string") {
      if (this.tokenizer === null) throw new TypeError(`${fn}: a text prompt needs a tokenizer (new InferenceEngine(model, { tokenizer }))`);
      return Array.from(this.tokenizer.encode(prompt));
    }
    if (prompt === null || typeof prompt !== "object" || typeof (prompt as ArrayLike<number>).length !== "number") {
      throw new TypeError(`${fn}: prompt must be a string or an array of token ids, received ${describe(prompt)}`);
    }
    return Array.from(prompt);
  }

  /**
   * Generates tokens after `prompt` (a string, with the engine's tokenizer, or token ids),
   * yielding each as it is produced. Starts from an empty cache. Stops at maxTokens, a stop string
   * or token, the end of the cache, an abort signal, an interrupt, or when the loop is left.
   */
  async *stream(prompt: string | ArrayLike<number>, opts: GenerateOptions = {}): AsyncGenerator<StreamedToken, GenerationResult, void> {
    const fn = "InferenceEngine.stream";
    this.#check(fn);
    if (opts === null || typeof opts !== "object") throw new TypeError(`${fn}: opts must be an object, received ${describe(opts)}`);
    const sampling: ResolvedSampling = resolveSampling(fn, opts);
    const maxTokens = opts.maxTokens ?? 64;
    if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new RangeError(`${fn}: maxTokens must be an integer >= 0, received ${describe(maxTokens)}`);
    const stops = opts.stop ?? [];
    if (!Array.isArray(stops) || stops.some((s) => typeof s !== "string" || s === "")) throw new TypeError(`${fn}: stop must be an array of non-empty strings, received ${describe(stops)}`);
    const stopTokens = new Set(opts.stopTokens ?? []);
    const ids = this.#encode(fn, prompt);
    if (ids.length === 0) throw new RangeError(`${fn}: the prompt is empty`);
    if (ids.length > this.maxLength) throw new RangeError(`${fn}: the prompt has ${ids.length} tokens, more than maxLength ${this.maxLength}`);
    if (this.#busy) throw new Error(`${fn}: this engine is already generating (one sequence at a time per engine)`);
    this.#busy = true;
    let interrupted = false;
    const removeInterrupt = onInterrupt(() => (interrupted = true));
    const generator = new Generator(sampling.seed);
    const context = ids.slice();
    const tokens: number[] = [];
    const t0 = performance.now();
    let firstAt = t0;
    let prefillSeconds = 0;
    let finishReason: GenerationResult["finishReason"] = "max_tokens";
    let text = "";
    try {
      this.reset();
      let logits = this.forward(ids);
      prefillSeconds = (performance.now() - t0) / 1000;
      for (let n = 0; n < maxTokens; n++) {
        if (opts.signal?.aborted || interrupted) {
          finishReason = "cancelled";
          break;
        }
        const next = sampleToken(logits.data(), sampling, generator, context);
        logits.dispose();
        logits = Tensor.empty([0], "f32");
        if (n === 0) firstAt = performance.now();
        if (stopTokens.has(next)) {
          finishReason = "stop";
          break;
        }
        tokens.push(next);
        context.push(next);
        let piece = "";
        if (this.tokenizer) {
          const full = this.tokenizer.decode(tokens);
          piece = full.slice(text.length);
          text = full;
          const hit = stops.find((s) => text.endsWith(s));
          if (hit !== undefined) {
            text = text.slice(0, text.length - hit.length);
            finishReason = "stop";
            yield { token: next, text: piece.slice(0, Math.max(0, piece.length - hit.length)) };
            break;
          }
        }
        yield { token: next, text: piece };
        if (n + 1 === maxTokens) break;
        if (this.#length >= this.maxLength) {
          finishReason = "length";
          break;
        }
        // Other work (interrupts, concurrent requests) runs between decode steps.
        await new Promise<void>((r) => setImmediate(r));
        logits = this.forward([next]);
      }
      logits.dispose();
      if (interrupted) throw new InterruptedError(`${fn}: interrupted after ${tokens.length} tokens`);
    } finally {
      removeInterrupt();
      this.#busy = false;
    }
    const decodeSeconds = (performance.now() - firstAt) / 1000;
    return {
      text,
      tokens,
      finishReason,
      stats: {
        promptTokens: ids.length,
        generatedTokens: tokens.length,
        prefillTokensPerSecond: ids.length / Math.max(prefillSeconds, 1e-9),
        decodeTokensPerSecond: tokens.length > 1 ? (tokens.length - 1) / Math.max(decodeSeconds, 1e-9) : 0,
        timeToFirstTokenMs: firstAt - t0,
      },
    };
  }

  /** Generates after `prompt` and resolves with the text, the token ids, why it ended and timings. */
  async generate(prompt: string | ArrayLike<number>, opts: GenerateOptions = {}): Promise<GenerationResult> {
    const it = this.stream(prompt, opts);
    for (;;) {
      const r = await it.next();
      if (r.done) return r.value;
    }
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const t of [...this.#k, ...this.#v]) t.dispose();
  }
}
