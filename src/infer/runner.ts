// The model's forward pass for inference, on raw buffers: no autograd, no tensor per
// intermediate, one quantization of each layer input shared by the projections that read it.
// A step runs several sequences at once (continuous batching): their rows are stacked so every
// ternary projection and the head read their weights once for the whole batch; RoPE, the KV
// cache and attention go sequence by sequence. The kernels and their order are the training
// graph's eval forward, and each row's numbers do not depend on the other rows of the step (the
// ternary and int8 products are exact integer dots; norms, RoPE and attention work per row or
// per sequence), so a sequence gets the same logits alone or batched.
import * as native from "../backend/kernels";
import { paddedCols } from "../quant";
import { denseMatmul } from "../quant/dense";
import { linear } from "../ops/matmul";
import { RopeTables, ropeTables } from "../ops/attention";
import { noGrad } from "../autograd/tape";
import { Tensor } from "../tensor/tensor";
import { tidy } from "../tensor/scope";
import { PackedModel } from "./pack";
import type { PackedTernary } from "../quant";

/** Element type of the KV cache: f32, or f16 (half the memory and decode reads; rounded keys and values). */
export type KVCacheFormat = "f32" | "f16";

/** One sequence's keys and values for every layer ([capacity, kv heads, head size] each). */
export class KVCache {
  readonly #k: Tensor[];
  readonly #v: Tensor[];
  /** Positions filled. */
  length = 0;

  constructor(
    readonly format: KVCacheFormat,
    readonly capacity: number,
    readonly layers: number,
    /** Values per position of one layer's K (kv heads x head size). */
    readonly span: number,
  ) {
    const dtype = format === "f16" ? "f16" : "f32";
    this.#k = [];
    this.#v = [];
    try {
      for (let l = 0; l < layers; l++) {
        this.#k.push(Tensor.empty([capacity, span], dtype, false, "KVCache"));
        this.#v.push(Tensor.empty([capacity, span], dtype, false, "KVCache"));
      }
    } catch (e) {
      for (const t of [...this.#k, ...this.#v]) t.dispose();
      throw e;
    }
  }

  /** Bytes of a cache of `capacity` positions. */
  static bytesFor(format: KVCacheFormat, capacity: number, layers: number, span: number): number {
    return 2 * layers * capacity * span * (format === "f16" ? 2 : 4);
  }

  get bytes(): number {
    return KVCache.bytesFor(this.format, this.capacity, this.layers, this.span);
  }

  get disposed(): boolean {
    return this.#k.length > 0 && this.#k[0].disposed;
  }

  /** Layer l's K and V storage (f32 or f16 bits). */
  keys(l: number): Float32Array | Uint16Array {
    return this.#k[l].data() as Float32Array | Uint16Array;
  }
  values(l: number): Float32Array | Uint16Array {
    return this.#v[l].data() as Float32Array | Uint16Array;
  }

  dispose(): void {
    for (const t of [...this.#k, ...this.#v]) t.dispose();
  }
}

/** Tokens to run for one sequence, appended to its cache. */
export interface Segment {
  cache: KVCache;
  ids: Int32Array;
  /** Which rows' logits to return: the last, every row, or none. */
  logits: "last" | "all" | "none";
}

/** Grow-only buffers for the rows of a step. */
class Workspace {
  rows = 0;
  x = new Float32Array(0);
  h = new Float32Array(0);
  rstd = new Float32Array(0);
  xq = new Int8Array(0);
  xs = new Float32Array(0);
  xsum = new Int32Array(0);
  q = new Float32Array(0);
  k = new Float32Array(0);
  v = new Float32Array(0);
  qr = new Float32Array(0);
  kr = new Float32Array(0);
  att = new Float32Array(0);
  o = new Float32Array(0);
  gate = new Float32Array(0);
  up = new Float32Array(0);

  ensure(rows: number, d: number, f: number, kvDim: number): void {
    if (rows <= this.rows) return;
    const kp = Math.max(paddedCols(d), paddedCols(f));
    this.rows = rows;
    this.x = new Float32Array(rows * d);
    this.h = new Float32Array(rows * Math.max(d, f));
    this.rstd = new Float32Array(rows);
    this.xq = new Int8Array(rows * kp);
    this.xs = new Float32Array(rows);
    this.xsum = new Int32Array(rows);
    this.q = new Float32Array(rows * d);
    this.k = new Float32Array(rows * kvDim);
    this.v = new Float32Array(rows * kvDim);
    this.qr = new Float32Array(rows * d);
    this.kr = new Float32Array(rows * kvDim);
    this.att = new Float32Array(rows * d);
    this.o = new Float32Array(rows * d);
    this.gate = new Float32Array(rows * f);
    this.up = new Float32Array(rows * f);
  }
}

/** Runs a packed model over segments of several sequences at once. */
export class ModelRunner {
  readonly model: PackedModel;
  readonly tables: RopeTables;
  readonly headDim: number;
  readonly kvDim: number;
  readonly #ws = new Workspace();

  constructor(model: PackedModel, maxPositions: number) {
    const c = model.config;
    this.model = model;
    this.headDim = c.hidden_size / c.num_attention_heads;
    this.kvDim = c.num_key_value_heads * this.headDim;
    this.tables = ropeTables(maxPositions, this.headDim, c.rope_theta);
  }

  newCache(format: KVCacheFormat, capacity: number): KVCache {
    return new KVCache(format, capacity, this.model.layers.length, this.kvDim);
  }

  /**
   * Runs the segments as one step (each appended to its cache; the caller checks capacity and
   * token ids) and returns the requested logits rows, segment by segment, as [rows, vocab].
   * `gemmHead`: an f32 head over several rows goes through the GEMM (the training graph's
   * kernel), for logits equal to BitNetLM.forward's bit for bit.
   */
  step(segments: readonly Segment[], opts: { gemmHead?: boolean } = {}): Tensor<"f32"> {
    const c = this.model.config;
    const d = c.hidden_size, f = c.intermediate_size, kvDim = this.kvDim;
    const M = segments.reduce((s, g) => s + g.ids.length, 0);
    const ws = this.#ws;
    ws.ensure(M, d, f, kvDim);
    const x = ws.x.subarray(0, M * d);
    let row = 0;
    for (const g of segments) for (const id of g.ids) this.model.embedding.readRow(id, x, row++ * d);
    for (let l = 0; l < this.model.layers.length; l++) this.#layer(l, segments, M);
    // The final norm and the head only for the rows whose logits are wanted.
    const wanted: number[] = [];
    row = 0;
    for (const g of segments) {
      const T = g.ids.length;
      if (g.logits === "all") for (let t = 0; t < T; t++) wanted.push(row + t);
      else if (g.logits === "last") wanted.push(row + T - 1);
      row += T;
    }
    const R = wanted.length;
    const normed = Tensor.empty([R, d], "f32", false, "InferenceEngine");
    try {
      if (R === 0) return Tensor.empty([0, c.vocab_size], "f32", false, "InferenceEngine");
      const rows = ws.h.subarray(0, R * d);
      wanted.forEach((r, i) => rows.set(x.subarray(r * d, r * d + d), i * d));
      this.#rmsNorm(rows, this.model.norm.data(), R, d, normed.data());
      const head = this.model.head;
      // tidy: linear's transposed view of the head is released at once.
      if (opts.gemmHead && head.format === "f32" && R >= 4) return noGrad(() => tidy(() => linear(normed, head.data as Tensor<"f32">)));
      return denseMatmul(normed, head);
    } finally {
      normed.dispose();
    }
  }

  #layer(l: number, segments: readonly Segment[], M: number): void {
    const c = this.model.config;
    const layer = this.model.layers[l];
    const ws = this.#ws;
    const d = c.hidden_size, f = c.intermediate_size, kvDim = this.kvDim;
    const Hq = c.num_attention_heads, Hkv = c.num_key_value_heads;
    const x = ws.x.subarray(0, M * d);
    const h = ws.h.subarray(0, M * d);
    this.#rmsNorm(x, layer.inputNorm.data(), M, d, h);
    this.#quantize(h, M, d);
    const q = ws.q.subarray(0, M * d), k = ws.k.subarray(0, M * kvDim), v = ws.v.subarray(0, M * kvDim);
    this.#projectGroup(M, d, [layer.q, layer.k, layer.v], [q, k, v]);
    const att = ws.att.subarray(0, M * d);
    let row = 0;
    for (const g of segments) {
      const T = g.ids.length;
      const pos = g.cache.length;
      const qs = q.subarray(row * d, (row + T) * d), qr = ws.qr.subarray(row * d, (row + T) * d);
      const ks = k.subarray(row * kvDim, (row + T) * kvDim), kr = ws.kr.subarray(row * kvDim, (row + T) * kvDim);
      const vs = v.subarray(row * kvDim, (row + T) * kvDim);
      this.#rope(qs, qr, T, Hq, pos);
      this.#rope(ks, kr, T, Hkv, pos);
      const kc = g.cache.keys(l), vc = g.cache.values(l);
      const at = pos * kvDim, end = (pos + T) * kvDim;
      if (kc instanceof Float32Array) {
        kc.set(kr, at);
        (vc as Float32Array).set(vs, at);
      } else {
        native.convert(kr, "f32", kc.subarray(at, end), "f16");
        native.convert(vs, "f32", (vc as Uint16Array).subarray(at, end), "f16");
      }
      this.#attention(g.cache, l, qr, kr, vs, T, pos, att.subarray(row * d, (row + T) * d));
      row += T;
    }
    let y = att;
    if (layer.attnSubNorm) {
      this.#rmsNorm(att, layer.attnSubNorm.data(), M, d, h);
      y = h;
    }
    this.#quantize(y, M, d);
    const o = ws.o.subarray(0, M * d);
    this.#project(M, d, layer.o, o);
    this.#elementwise("add", x, o, x);
    this.#rmsNorm(x, layer.postAttentionNorm.data(), M, d, h);
    this.#quantize(h, M, d);
    const up = ws.up.subarray(0, M * f);
    let act = up;
    if (layer.gate) {
      const gate = ws.gate.subarray(0, M * f);
      this.#projectGroup(M, d, [layer.gate, layer.up], [gate, up]);
      this.#activate(gate);
      this.#elementwise("mul", gate, up, gate);
      act = gate;
    } else {
      this.#project(M, d, layer.up, up);
      this.#activate(up);
    }
    let z = act;
    const hf = ws.h.subarray(0, M * f);
    if (layer.ffnSubNorm) {
      this.#rmsNorm(act, layer.ffnSubNorm.data(), M, f, hf);
      z = hf;
    }
    this.#quantize(z, M, f);
    this.#project(M, f, layer.down, o);
    this.#elementwise("add", x, o, x);
  }

  #attention(cache: KVCache, l: number, q: Float32Array, k: Float32Array, v: Float32Array, T: number, pos: number, out: Float32Array): void {
    const c = this.model.config;
    const Hq = c.num_attention_heads, Hkv = c.num_key_value_heads, hd = this.headDim, kvDim = this.kvDim;
    const kvLen = pos + T;
    const scale = 1 / Math.sqrt(hd);
    const kc = cache.keys(l), vc = cache.values(l);
    if (T === 1) {
      native.attentionDecode(q, kc.subarray(0, kvLen * kvDim), vc.subarray(0, kvLen * kvDim), kvLen, Hq, Hkv, hd, scale, out);
      return;
    }
    // Several query rows: the blocked kernel, on f32 keys and values. A fresh f16 cache's rows
    // are this step's own f32 rows; earlier f16 positions are widened once for the call.
    let keys: Float32Array, values: Float32Array;
    if (kc instanceof Float32Array) {
      keys = kc.subarray(0, kvLen * kvDim);
      values = (vc as Float32Array).subarray(0, kvLen * kvDim);
    } else if (pos === 0) {
      keys = k;
      values = v;
    } else {
      keys = new Float32Array(kvLen * kvDim);
      values = new Float32Array(kvLen * kvDim);
      native.convert(kc.subarray(0, kvLen * kvDim), "f16", keys, "f32");
      native.convert((vc as Uint16Array).subarray(0, kvLen * kvDim), "f16", values, "f32");
    }
    const lse = new Float32Array(Hq * T);
    native.attentionForward(q, keys, values, 1, T, kvLen, Hq, Hkv, hd, scale, out, lse);
  }

  #rmsNorm(x: Float32Array, w: Float32Array, rows: number, n: number, out: Float32Array): void {
    const rstd = this.#ws.rstd.subarray(0, rows);
    native.rmsNormForward(x.subarray(0, rows * n), w, rows, n, this.model.config.rms_norm_eps, out.subarray(0, rows * n), rstd);
  }

  /** Quantizes rows of `k` values into the shared int8 buffer (read by #project). */
  #quantize(x: Float32Array, rows: number, k: number): void {
    const ws = this.#ws;
    const kp = paddedCols(k);
    native.quantizeActivationsInt8(x.subarray(0, rows * k), rows, k, ws.xq.subarray(0, rows * kp), ws.xs.subarray(0, rows), ws.xsum.subarray(0, rows));
  }

  #project(rows: number, k: number, w: PackedTernary, out: Float32Array): void {
    const ws = this.#ws;
    const p = w.kernelLayout();
    const n = p.shape[0];
    const kp = paddedCols(k);
    native.ternaryMatmul(ws.xq.subarray(0, rows * kp), rows, k, ws.xs.subarray(0, rows), ws.xsum.subarray(0, rows), p.data.data(), n, p.scale.data(), out.subarray(0, rows * n));
  }

  /** Two or three projections of the same quantized rows in one native call. */
  #projectGroup(rows: number, k: number, ws: PackedTernary[], outs: Float32Array[]): void {
    const q = this.#ws;
    const kp = paddedCols(k);
    const members = ws.map((w, i) => {
      const p = w.kernelLayout();
      const n = p.shape[0];
      return { w: p.data.data(), outFeatures: n, wScale: p.scale.data(), out: outs[i].subarray(0, rows * n) };
    });
    native.ternaryMatmulGroup(q.xq.subarray(0, rows * kp), rows, k, q.xs.subarray(0, rows), q.xsum.subarray(0, rows), members);
  }

  #rope(x: Float32Array, out: Float32Array, T: number, heads: number, offset: number): void {
    const hd = this.headDim;
    native.rope(x, out, 1, T, heads, hd, this.tables.cos, this.tables.sin, offset, 1);
  }

  #elementwise(op: "add" | "mul" | "relu2", a: Float32Array, b: Float32Array | null, out: Float32Array): void {
    native.elementwise(op, a, b, out);
  }

  /** The MLP activation in place: ReLU^2 natively, SiLU as the training op computes it. */
  #activate(a: Float32Array): void {
    if (this.model.config.hidden_act === "relu2") {
      this.#elementwise("relu2", a, null, a);
      return;
    }
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      a[i] = v / (1 + Math.exp(-v));
    }
  }
}
