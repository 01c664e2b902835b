// The inference engine: a packed BitNet b1.58 model with KV caches, and a scheduler that batches
// concurrent generations (continuous batching). Every generate()/stream() call is a request: it
// waits for a batch slot and for KV-cache memory, then runs in the scheduler's steps: each step
// carries one decode token of every running request and fills the rest of its row budget
// (maxStepRows) with prompt chunks of the requests still prefilling (on the int8 x ternary GEMM),
// so a long prompt neither stalls the others' decoding for long nor needs a huge workspace. The
// weights are read once per step for the whole batch. Requests join and leave between steps. A
// request gets the same tokens alone or batched (see runner.ts).
import { InterruptedError, onInterrupt } from "../runtime/interrupt";
import { getMemoryLimit } from "../tensor/storage";
import { Generator } from "../tensor/random";
import { Tensor } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import { PackedModel } from "./pack";
import { KVCache, KVCacheFormat, ModelRunner, Segment } from "./runner";
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

/** Options of {@link InferenceEngine}. */
export interface InferenceEngineOptions {
  /** Most positions of one sequence (default config.max_position_embeddings). */
  maxLength?: number;
  tokenizer?: TokenizerLike;
  /** KV cache element type (default 'f32'; 'f16' halves its memory and decode reads). */
  kvCache?: KVCacheFormat;
  /** Most requests decoded together in one step (default 8). */
  maxBatch?: number;
  /**
   * Bytes of KV cache all running requests may hold together (default: maxBatch caches of
   * maxLength positions, at most a quarter of the tensor memory limit). A request reserves
   * min(maxLength, prompt + maxTokens) positions when it starts; one that can never fit is rejected.
   */
  maxCacheBytes?: number;
  /** Most requests waiting for a slot; more are rejected with an error (default 1024). */
  maxWaiting?: number;
  /**
   * Most token rows in one model step (default 64): decode tokens first, then prompt chunks.
   * It bounds the step's working memory; forward() runs longer inputs in chunks of this size.
   */
  maxStepRows?: number;
}

/** Counters of the scheduler (see {@link InferenceEngine.schedulerStats}). */
export interface SchedulerStats {
  running: number;
  waiting: number;
  /** KV cache bytes reserved by running requests. */
  cacheBytesInUse: number;
  completed: number;
  cancelled: number;
  rejected: number;
  failed: number;
  /** Model steps run, and the rows (sequences) they carried. */
  steps: number;
  stepRows: number;
}

interface Request {
  fn: string;
  ids: Int32Array;
  sampling: ResolvedSampling;
  maxTokens: number;
  stops: readonly string[];
  stopTokens: Set<number>;
  signal?: AbortSignal;
  generator: Generator;
  context: number[];
  tokens: number[];
  text: string;
  capacity: number;
  bytes: number;
  cache: KVCache | null;
  /** Prompt tokens already in the cache. */
  prefilled: number;
  /** The token the next step feeds (after the prefill). */
  next: number;
  state: "waiting" | "running" | "done";
  events: StreamedToken[];
  result: GenerationResult | null;
  error: unknown;
  wake: (() => void) | null;
  abandoned: boolean;
  interrupted: boolean;
  removeInterrupt: () => void;
  t0: number;
  firstAt: number;
  lastAt: number;
  prefillSeconds: number;
}

/** Runs a packed model: a KV cache for forward(), and batched generation for generate()/stream(). */
export class InferenceEngine {
  readonly model: PackedModel;
  readonly maxLength: number;
  readonly tokenizer: TokenizerLike | null;
  readonly kvCache: KVCacheFormat;
  readonly maxBatch: number;
  readonly maxCacheBytes: number;
  readonly maxWaiting: number;
  readonly maxStepRows: number;
  readonly #runner: ModelRunner;
  #cache: KVCache | null = null;
  #waiting: Request[] = [];
  #running: Request[] = [];
  #loop: Promise<void> | null = null;
  #reserved = 0;
  #counters = { completed: 0, cancelled: 0, rejected: 0, failed: 0, steps: 0, stepRows: 0 };
  #disposed = false;

  constructor(model: PackedModel, opts: InferenceEngineOptions = {}) {
    const fn = "InferenceEngine";
    if (!(model instanceof PackedModel)) throw new TypeError(`${fn}: model must be a PackedModel (packModel(lm)), received ${describe(model)}`);
    if (model.disposed) throw new Error(`${fn}: the packed model was disposed`);
    if (opts === null || typeof opts !== "object") throw new TypeError(`${fn}: opts must be an object, received ${describe(opts)}`);
    const c = model.config;
    const maxLength = opts.maxLength ?? c.max_position_embeddings;
    if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > c.max_position_embeddings) {
      throw new RangeError(`${fn}: maxLength must be an integer in [1, ${c.max_position_embeddings}] (config.max_position_embeddings), received ${describe(maxLength)}`);
    }
    if (opts.tokenizer !== undefined && (typeof opts.tokenizer?.encode !== "function" || typeof opts.tokenizer?.decode !== "function")) {
      throw new TypeError(`${fn}: tokenizer must have encode(text) and decode(ids), received ${describe(opts.tokenizer)}`);
    }
    const kvCache = opts.kvCache ?? "f32";
    if (kvCache !== "f32" && kvCache !== "f16") throw new RangeError(`${fn}: kvCache must be 'f32' or 'f16', received ${describe(kvCache)}`);
    const maxBatch = opts.maxBatch ?? 8;
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 4096) throw new RangeError(`${fn}: maxBatch must be an integer in [1, 4096], received ${describe(maxBatch)}`);
    const maxWaiting = opts.maxWaiting ?? 1024;
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) throw new RangeError(`${fn}: maxWaiting must be an integer >= 0, received ${describe(maxWaiting)}`);
    this.model = model;
    this.maxLength = maxLength;
    this.tokenizer = opts.tokenizer ?? null;
    this.kvCache = kvCache;
    this.maxBatch = maxBatch;
    this.maxWaiting = maxWaiting;
    const maxStepRows = opts.maxStepRows ?? 64;
    if (!Number.isInteger(maxStepRows) || maxStepRows < maxBatch) throw new RangeError(`${fn}: maxStepRows must be an integer >= maxBatch (${maxBatch}), received ${describe(maxStepRows)}`);
    this.maxStepRows = maxStepRows;
    this.#runner = new ModelRunner(model, maxLength);
    const full = this.#bytesFor(maxLength);
    const maxCacheBytes = opts.maxCacheBytes ?? Math.max(full, Math.min(maxBatch * full, Math.floor(getMemoryLimit() / 4)));
    if (!Number.isSafeInteger(maxCacheBytes) || maxCacheBytes < 1) throw new RangeError(`${fn}: maxCacheBytes must be a positive integer, received ${describe(maxCacheBytes)}`);
    this.maxCacheBytes = maxCacheBytes;
  }

  #bytesFor(positions: number): number {
    return KVCache.bytesFor(this.kvCache, positions, this.model.layers.length, this.#runner.kvDim);
  }

  /** Positions in forward()'s KV cache. */
  get length(): number {
    return this.#cache?.length ?? 0;
  }

  /** Bytes of KV cache allocated: forward()'s and the running requests'. */
  get cacheBytes(): number {
    return (this.#cache?.bytes ?? 0) + this.#reserved;
  }

  /** What the scheduler is doing and has done. */
  schedulerStats(): SchedulerStats {
    return { running: this.#running.length, waiting: this.#waiting.length, cacheBytesInUse: this.#reserved, ...this.#counters };
  }

  /** Empties forward()'s KV cache (a new conversation). */
  reset(): void {
    if (this.#cache) this.#cache.length = 0;
  }

  #check(fn: string): void {
    if (this.#disposed) throw new Error(`${fn}: the engine was disposed`);
    if (this.model.disposed) throw new Error(`${fn}: the packed model was disposed`);
  }

  #checkIds(fn: string, ids: ArrayLike<number>): Int32Array {
    const V = this.model.config.vocab_size;
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const t = ids[i];
      if (typeof t !== "number" || !Number.isInteger(t) || t < 0 || t >= V) throw new RangeError(`${fn}: ids[${i}] must be a token id in [0, ${V}), received ${String(t)}`);
      out[i] = t;
    }
    return out;
  }

  /**
   * Runs `ids` at the next positions of forward()'s cache (maxLength positions, allocated on
   * first use) and returns the logits: of every new position ([ids.length, vocab]) when `all`,
   * else of the last one ([1, vocab]).
   */
  forward(ids: ArrayLike<number>, opts: { all?: boolean } = {}): Tensor<"f32"> {
    const fn = "InferenceEngine.forward";
    this.#check(fn);
    if (ids === null || typeof ids !== "object" || typeof ids.length !== "number") throw new TypeError(`${fn}: ids must be an array of token ids, received ${describe(ids)}`);
    const T = ids.length;
    if (T < 1) throw new RangeError(`${fn}: ids must hold at least one token`);
    const idArray = this.#checkIds(fn, ids);
    if (this.length + T > this.maxLength) {
      throw new RangeError(`${fn}: ${T} more tokens do not fit: the cache holds ${this.length} of ${this.maxLength} positions (maxLength)`);
    }
    this.#cache ??= this.#runner.newCache(this.kvCache, this.maxLength);
    const cache = this.#cache;
    const chunk = this.maxStepRows;
    if (T <= chunk) {
      const out = this.#runner.step([{ cache, ids: idArray, logits: opts.all ? "all" : "last" }], { gemmHead: true });
      cache.length += T;
      return out;
    }
    const V = this.model.config.vocab_size;
    const out = Tensor.empty([opts.all ? T : 1, V], "f32", false, fn);
    const start = cache.length;
    try {
      for (let t = 0; t < T; t += chunk) {
        const end = Math.min(T, t + chunk);
        const last = end === T;
        const part = this.#runner.step([{ cache, ids: idArray.subarray(t, end), logits: opts.all ? "all" : last ? "last" : "none" }], { gemmHead: true });
        out.data().set(part.data(), opts.all ? t * V : 0);
        part.dispose();
        cache.length += end - t;
      }
    } catch (e) {
      cache.length = start;
      out.dispose();
      throw e;
    }
    return out;
  }

  #encode(fn: string, prompt: string | ArrayLike<number>): Int32Array {
    if (typeof prompt === "string") {
      if (this.tokenizer === null) throw new TypeError(`${fn}: a text prompt needs a tokenizer (new InferenceEngine(model, { tokenizer }))`);
      return this.#checkIds(fn, Array.from(this.tokenizer.encode(prompt)));
    }
    if (prompt === null || typeof prompt !== "object" || typeof (prompt as ArrayLike<number>).length !== "number") {
      throw new TypeError(`${fn}: prompt must be a string or an array of token ids, received ${describe(prompt)}`);
    }
    return this.#checkIds(fn, prompt);
  }

  /**
   * Generates tokens after `prompt` (a string, with the engine's tokenizer, or token ids),
   * yielding each as it is produced. Concurrent calls are batched. Ends at maxTokens, a stop
   * string or token, the end of the request's cache (maxLength), an abort signal, an interrupt,
   * or when the loop is left. Throws when the request can never fit the KV memory limit or too
   * many requests are waiting.
   */
  async *stream(prompt: string | ArrayLike<number>, opts: GenerateOptions = {}): AsyncGenerator<StreamedToken, GenerationResult, void> {
    const r = this.#submit("InferenceEngine.stream", prompt, opts);
    try {
      for (;;) {
        while (r.events.length > 0) yield r.events.shift() as StreamedToken;
        if (r.state === "done") break;
        await new Promise<void>((resolve) => (r.wake = resolve));
      }
      if (r.error !== null) throw r.error;
      return r.result as GenerationResult;
    } finally {
      // The consumer left early: the scheduler drops the request before its next step.
      if (r.state !== "done") {
        r.abandoned = true;
        this.#pump();
      }
    }
  }

  /** Generates after `prompt` and resolves with the text, the token ids, why it ended and timings. */
  async generate(prompt: string | ArrayLike<number>, opts: GenerateOptions = {}): Promise<GenerationResult> {
    const it = this.stream(prompt, opts);
    for (;;) {
      const r = await it.next();
      if (r.done) return r.value;
    }
  }

  #submit(fn: string, prompt: string | ArrayLike<number>, opts: GenerateOptions): Request {
    this.#check(fn);
    if (opts === null || typeof opts !== "object") throw new TypeError(`${fn}: opts must be an object, received ${describe(opts)}`);
    const sampling = resolveSampling(fn, opts);
    const maxTokens = opts.maxTokens ?? 64;
    if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new RangeError(`${fn}: maxTokens must be an integer >= 0, received ${describe(maxTokens)}`);
    const stops = opts.stop ?? [];
    if (!Array.isArray(stops) || stops.some((s) => typeof s !== "string" || s === "")) throw new TypeError(`${fn}: stop must be an array of non-empty strings, received ${describe(stops)}`);
    const stopTokens = opts.stopTokens ?? [];
    if (!Array.isArray(stopTokens) || stopTokens.some((t) => !Number.isInteger(t))) throw new TypeError(`${fn}: stopTokens must be an array of token ids, received ${describe(stopTokens)}`);
    const vocab = this.model.config.vocab_size;
    const badStop = stopTokens.findIndex((t) => t < 0 || t >= vocab);
    if (badStop >= 0) throw new RangeError(`${fn}: stopTokens[${badStop}] must be a token id in [0, ${vocab}), received ${stopTokens[badStop]}`);
    if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw new TypeError(`${fn}: signal must be an AbortSignal, received ${describe(opts.signal)}`);
    const ids = this.#encode(fn, prompt);
    if (ids.length === 0) throw new RangeError(`${fn}: the prompt is empty`);
    if (ids.length > this.maxLength) throw new RangeError(`${fn}: the prompt has ${ids.length} tokens, more than maxLength ${this.maxLength}`);
    const capacity = Math.min(this.maxLength, ids.length + maxTokens);
    const bytes = this.#bytesFor(capacity);
    if (bytes > this.maxCacheBytes) {
      this.#counters.rejected++;
      throw new RangeError(`${fn}: the request needs ${bytes} bytes of KV cache (${capacity} positions) but maxCacheBytes is ${this.maxCacheBytes}; shorten the prompt or maxTokens, or raise maxCacheBytes`);
    }
    if (this.#waiting.length >= this.maxWaiting) {
      this.#counters.rejected++;
      throw new Error(`${fn}: ${this.#waiting.length} requests are already waiting (maxWaiting ${this.maxWaiting}); retry later`);
    }
    const r: Request = {
      fn, ids, sampling, maxTokens, stops, stopTokens: new Set(stopTokens), signal: opts.signal,
      generator: new Generator(sampling.seed), context: Array.from(ids), tokens: [], text: "",
      capacity, bytes, cache: null, prefilled: 0, next: -1, state: "waiting", events: [], result: null, error: null, wake: null,
      abandoned: false, interrupted: false, removeInterrupt: () => undefined,
      t0: performance.now(), firstAt: 0, lastAt: 0, prefillSeconds: 0,
    };
    r.removeInterrupt = onInterrupt(() => {
      r.interrupted = true;
      this.#pump();
    });
    this.#waiting.push(r);
    this.#pump();
    return r;
  }

  #pump(): void {
    if (this.#loop) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = null;
      if (this.#waiting.length > 0 || this.#running.length > 0) this.#pump();
    });
  }

  /** The scheduler: admit, one step for every running request, hand out tokens, repeat. */
  async #run(): Promise<void> {
    // Start on a later turn so that calls made together join the same first step.
    await new Promise<void>((r) => setImmediate(r));
    while (this.#waiting.length > 0 || this.#running.length > 0) {
      if (this.#disposed) {
        for (const r of [...this.#waiting, ...this.#running]) this.#finish(r, "cancelled", new Error(`${r.fn}: the engine was disposed`));
        return;
      }
      for (const r of [...this.#waiting, ...this.#running]) {
        if (r.interrupted) this.#finish(r, "cancelled", new InterruptedError(`${r.fn}: interrupted after ${r.tokens.length} tokens`));
        else if (r.abandoned || r.signal?.aborted) this.#finish(r, "cancelled");
      }
      while (this.#waiting.length > 0 && this.#running.length < this.maxBatch && this.#reserved + this.#waiting[0].bytes <= this.maxCacheBytes) {
        const r = this.#waiting.shift() as Request;
        if (r.maxTokens === 0) {
          this.#finish(r, "max_tokens");
          continue;
        }
        try {
          r.cache = this.#runner.newCache(this.kvCache, r.capacity);
        } catch (e) {
          this.#finish(r, "cancelled", e);
          continue;
        }
        this.#reserved += r.bytes;
        r.state = "running";
        this.#running.push(r);
      }
      if (this.#running.length === 0) {
        if (this.#waiting.length === 0) break;
        // Nothing runs and the first waiting request does not fit: only its own abort can help.
        await new Promise<void>((r) => setTimeout(r, 5));
        continue;
      }
      // Decode rows first (one per request past its prompt), then prompt chunks in arrival order.
      const batch: Request[] = [];
      const segments: Segment[] = [];
      let rows = 0;
      for (const r of this.#running) {
        if (r.prefilled < r.ids.length) continue;
        batch.push(r);
        segments.push({ cache: r.cache as KVCache, ids: Int32Array.of(r.next), logits: "last" });
        rows++;
      }
      for (const r of this.#running) {
        if (r.prefilled >= r.ids.length || rows >= this.maxStepRows) continue;
        const end = Math.min(r.ids.length, r.prefilled + this.maxStepRows - rows);
        batch.push(r);
        segments.push({ cache: r.cache as KVCache, ids: r.ids.subarray(r.prefilled, end), logits: end === r.ids.length ? "last" : "none" });
        rows += end - r.prefilled;
      }
      const t = performance.now();
      let logits: Tensor<"f32">;
      try {
        logits = this.#runner.step(segments);
      } catch (e) {
        for (const r of batch) this.#finish(r, "cancelled", e);
        this.#counters.failed += batch.length;
        continue;
      }
      const seconds = (performance.now() - t) / 1000;
      this.#counters.steps++;
      this.#counters.stepRows += rows;
      const V = this.model.config.vocab_size;
      const data = logits.data();
      let row = 0;
      batch.forEach((r, i) => {
        const seg = segments[i];
        (r.cache as KVCache).length += seg.ids.length;
        const prefilling = r.prefilled < r.ids.length;
        if (prefilling) {
          r.prefilled += seg.ids.length;
          r.prefillSeconds += seconds;
        }
        if (seg.logits === "none") return;
        this.#advance(r, data.subarray(row * V, (row + 1) * V));
        row++;
      });
      logits.dispose();
      // Consumers, new requests, aborts and interrupts run between steps.
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Samples a request's next token from its logits row and decides whether it goes on. */
  #advance(r: Request, logits: Float32Array): void {
    const next = sampleToken(logits, r.sampling, r.generator, r.context);
    const now = performance.now();
    if (r.tokens.length === 0) r.firstAt = now;
    r.lastAt = now;
    if (r.stopTokens.has(next)) return this.#finish(r, "stop");
    r.tokens.push(next);
    r.context.push(next);
    let piece = "";
    if (this.tokenizer) {
      const full = this.tokenizer.decode(r.tokens);
      piece = full.slice(r.text.length);
      r.text = full;
      const hit = r.stops.find((s) => r.text.endsWith(s));
      if (hit !== undefined) {
        r.text = r.text.slice(0, r.text.length - hit.length);
        r.events.push({ token: next, text: piece.slice(0, Math.max(0, piece.length - hit.length)) });
        return this.#finish(r, "stop");
      }
    }
    r.events.push({ token: next, text: piece });
    if (r.tokens.length >= r.maxTokens) return this.#finish(r, "max_tokens");
    if ((r.cache as KVCache).length >= (r.cache as KVCache).capacity) return this.#finish(r, "length");
    r.next = next;
    r.wake?.();
  }

  #finish(r: Request, reason: GenerationResult["finishReason"], error: unknown = null): void {
    if (r.state === "done") return;
    if (r.state === "running") {
      this.#running.splice(this.#running.indexOf(r), 1);
      this.#reserved -= r.bytes;
    } else {
      const i = this.#waiting.indexOf(r);
      if (i >= 0) this.#waiting.splice(i, 1);
    }
    r.cache?.dispose();
    r.cache = null;
    r.removeInterrupt();
    r.state = "done";
    r.error = error;
    if (error !== null) this.#counters.failed += error instanceof InterruptedError ? 0 : 1;
    if (reason === "cancelled") this.#counters.cancelled++;
    else this.#counters.completed++;
    const end = r.lastAt || performance.now();
    r.result = {
      text: r.text,
      tokens: r.tokens,
      finishReason: reason,
      stats: {
        promptTokens: r.ids.length,
        generatedTokens: r.tokens.length,
        prefillTokensPerSecond: r.prefillSeconds > 0 ? r.ids.length / r.prefillSeconds : 0,
        decodeTokensPerSecond: r.tokens.length > 1 ? (r.tokens.length - 1) / Math.max((end - r.firstAt) / 1000, 1e-9) : 0,
        timeToFirstTokenMs: r.firstAt > 0 ? r.firstAt - r.t0 : 0,
      },
    };
    r.wake?.();
  }

  /** Frees the KV caches; running and waiting requests end with an error. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#cache?.dispose();
    for (const r of [...this.#waiting, ...this.#running]) this.#finish(r, "cancelled", new Error(`${r.fn}: the engine was disposed`));
  }
}
