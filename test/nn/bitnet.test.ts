// BitNetLM: HF parameter names and hand-computed counts (incl. the PyTorch reference's 3,191,488),
// logits against a float64 re-implementation of the reference's math (fp32 and bitnet modes),
// state-dict round trips, determinism, gradients reaching every parameter and one SGD step
// lowering the loss, memory, printing, and config validation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Tensor, Generator, fromArray, memoryStats, noGrad, tidy } from "../../src";
import { BitNetLM, BitNetConfig, BitLinear, Linear, resolveBitNetConfig } from "../../src/nn";

const SMALL: BitNetConfig = {
  hidden_size: 64,
  intermediate_size: 96,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 50,
};

/** Random ids in [0, vocab) as an i32 [B, T] tensor. */
function randomIds(B: number, T: number, vocab: number, seed: number): Tensor<"i32"> {
  const u = new Uint32Array(B * T);
  new Generator(seed).nextUint32(u);
  return fromArray(Int32Array.from(u, (v) => v % vocab), { shape: [B, T] });
}

test("parameter names follow Hugging Face BitNet; counts match a hand computation", () => {
  const m = new BitNetLM(SMALL);
  const names = m.namedParameters().map(([n, p]) => `${n} [${p.shape.join(", ")}]`);
  const layer = (i: number): string[] => [
    `model.layers.${i}.input_layernorm.weight [64]`,
    `model.layers.${i}.self_attn.q_proj.weight [64, 64]`,
    `model.layers.${i}.self_attn.k_proj.weight [32, 64]`,
    `model.layers.${i}.self_attn.v_proj.weight [32, 64]`,
    `model.layers.${i}.self_attn.o_proj.weight [64, 64]`,
    `model.layers.${i}.self_attn.attn_sub_norm.weight [64]`,
    `model.layers.${i}.post_attention_layernorm.weight [64]`,
    `model.layers.${i}.mlp.gate_proj.weight [96, 64]`,
    `model.layers.${i}.mlp.up_proj.weight [96, 64]`,
    `model.layers.${i}.mlp.down_proj.weight [64, 96]`,
    `model.layers.${i}.mlp.ffn_sub_norm.weight [96]`,
  ];
  assert.deepEqual(names, ["model.embed_tokens.weight [50, 64]", ...layer(0), ...layer(1), "model.norm.weight [64]"]);
  // head_dim 16, kv width 2 * 16 = 32. Per layer: q 64*64 + k 64*32 + v 64*32 + o 64*64 = 12288;
  // mlp 3 * 64*96 = 18432; norms 64 + 64 + 64 + 96 = 288 -> 31008. Embedding 50*64 = 3200, final norm 64.
  assert.equal(m.numParameters(), 3200 + 2 * 31008 + 64);
  assert.equal(m.numParameters(), 65280);
  assert.equal(m.bitLinears().length, 14);
  assert.ok(m.model.layers.at(0).self_attn.q_proj instanceof BitLinear);
  m.dispose();

  const untied = new BitNetLM({ ...SMALL, tie_word_embeddings: false, gated: false, sub_norm: false, linear: "fp32" });
  const n2 = untied.namedParameters().map(([n]) => n);
  assert.equal(n2[n2.length - 1], "lm_head.weight");
  assert.ok(!n2.some((n) => /gate_proj|sub_norm/.test(n)));
  assert.ok(untied.model.layers.at(1).mlp.up_proj instanceof Linear && !(untied.model.layers.at(1).mlp.up_proj instanceof BitLinear));
  assert.equal(untied.bitLinears().length, 0);
  // Per layer: attention 12288 + mlp 2 * 64*96 + norms 64 + 64; plus embedding, final norm, head 50*64.
  assert.equal(untied.numParameters(), 3200 + 2 * (12288 + 12288 + 128) + 64 + 3200);
  untied.dispose();
});

test("the PyTorch reference configuration has 3,191,488 parameters, as torch_qat_ref.py prints", () => {
  // d=256, 4 layers, 4 heads (no GQA), ffn 688 gated ReLU^2, SubLN, vocab 91, tied.
  const m = new BitNetLM({ hidden_size: 256, intermediate_size: 688, num_hidden_layers: 4, num_attention_heads: 4, vocab_size: 91 });
  // Per block: wqkv 256*768 + wo 256*256 + w13 256*1376 + w2 688*256 + norms 3*256 + 688 = 791984.
  assert.equal(4 * 791984 + 91 * 256 + 256, 3191488);
  assert.equal(m.numParameters(), 3191488);
  m.dispose();
});

// ------------------------------------------------------------------------------------------------
// float64 reference of the torch reference's LM.forward (separate projections, per-projection
// weight scales in bitnet mode).

type Params = Map<string, Float64Array>;

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** y [rows, n] = x [rows, k] @ W^T (W [n, k]), with the recipe's fake quantization when `bitnet`. */
function refLinear(x: Float64Array, rows: number, k: number, w: Float64Array, n: number, bitnet: boolean): Float64Array {
  let wq: Float64Array = w;
  let xq: Float64Array = x;
  if (bitnet) {
    let s = 0;
    for (let i = 0; i < w.length; i++) s += Math.abs(w[i]);
    const sw = Math.max(s / w.length, 1e-5);
    wq = w.map((v) => Math.min(1, Math.max(-1, roundHalfEven(v / sw))) * sw);
    xq = new Float64Array(x.length);
    for (let r = 0; r < rows; r++) {
      let amax = 0;
      for (let j = 0; j < k; j++) amax = Math.max(amax, Math.abs(x[r * k + j]));
      const sx = 127 / Math.max(amax, 1e-5);
      for (let j = 0; j < k; j++) xq[r * k + j] = Math.min(127, Math.max(-128, roundHalfEven(x[r * k + j] * sx))) / sx;
    }
  }
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < n; o++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += xq[r * k + j] * wq[o * k + j];
      y[r * n + o] = s;
    }
  }
  return y;
}

function refNorm(x: Float64Array, rows: number, d: number, w: Float64Array, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let ms = 0;
    for (let j = 0; j < d; j++) ms += x[r * d + j] ** 2;
    const rstd = 1 / Math.sqrt(ms / d + eps);
    for (let j = 0; j < d; j++) y[r * d + j] = x[r * d + j] * rstd * w[j];
  }
  return y;
}

/** Rotate-half RoPE in place on x [B, T, H, hd]. */
function refRope(x: Float64Array, B: number, T: number, H: number, hd: number, theta: number): void {
  const half = hd / 2;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) {
        const o = ((b * T + t) * H + h) * hd;
        for (let i = 0; i < half; i++) {
          const a = t / Math.pow(theta, (2 * i) / hd);
          const x1 = x[o + i];
          const x2 = x[o + half + i];
          x[o + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
          x[o + half + i] = x1 * Math.sin(a) + x2 * Math.cos(a);
        }
      }
    }
  }
}

function referenceLogits(p: Params, cfg: Required<BitNetConfig>, ids: Int32Array, B: number, T: number): Float64Array {
  const d = cfg.hidden_size;
  const H = cfg.num_attention_heads;
  const Hkv = cfg.num_key_value_heads;
  const hd = d / H;
  const ffn = cfg.intermediate_size;
  const V = cfg.vocab_size;
  const N = B * T;
  const bit = cfg.linear === "bitnet";
  const eps = cfg.rms_norm_eps;
  const emb = p.get("model.embed_tokens.weight")!;
  let x: Float64Array = new Float64Array(N * d);
  for (let i = 0; i < N; i++) for (let j = 0; j < d; j++) x[i * d + j] = emb[ids[i] * d + j];
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const P = (name: string): Float64Array => p.get(`model.layers.${l}.${name}.weight`)!;
    const n = refNorm(x, N, d, P("input_layernorm"), eps);
    const q = refLinear(n, N, d, P("self_attn.q_proj"), H * hd, bit);
    const k = refLinear(n, N, d, P("self_attn.k_proj"), Hkv * hd, bit);
    const v = refLinear(n, N, d, P("self_attn.v_proj"), Hkv * hd, bit);
    refRope(q, B, T, H, hd, cfg.rope_theta);
    refRope(k, B, T, Hkv, hd, cfg.rope_theta);
    let y: Float64Array = new Float64Array(N * d);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const kh = Math.floor(h / (H / Hkv));
        for (let t = 0; t < T; t++) {
          const scores: number[] = [];
          for (let s = 0; s <= t; s++) {
            let dot = 0;
            for (let j = 0; j < hd; j++) dot += q[((b * T + t) * H + h) * hd + j] * k[((b * T + s) * Hkv + kh) * hd + j];
            scores.push(dot / Math.sqrt(hd));
          }
          const mx = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - mx));
          const z = e.reduce((a, c) => a + c, 0);
          for (let j = 0; j < hd; j++) {
            let acc = 0;
            for (let s = 0; s <= t; s++) acc += (e[s] / z) * v[((b * T + s) * Hkv + kh) * hd + j];
            y[((b * T + t) * H + h) * hd + j] = acc;
          }
        }
      }
    }
    if (cfg.sub_norm) y = refNorm(y, N, d, P("self_attn.attn_sub_norm"), eps);
    const a = refLinear(y, N, d, P("self_attn.o_proj"), d, bit);
    for (let i = 0; i < x.length; i++) x[i] += a[i];
    const m = refNorm(x, N, d, P("post_attention_layernorm"), eps);
    const act = (z: number): number => (cfg.hidden_act === "relu2" ? Math.max(z, 0) ** 2 : z / (1 + Math.exp(-z)));
    const up = refLinear(m, N, d, P("mlp.up_proj"), ffn, bit);
    let hidden: Float64Array;
    if (cfg.gated) {
      const gate = refLinear(m, N, d, P("mlp.gate_proj"), ffn, bit);
      hidden = gate.map((g, i) => act(g) * up[i]);
    } else {
      hidden = up.map(act);
    }
    if (cfg.sub_norm) hidden = refNorm(hidden, N, ffn, P("mlp.ffn_sub_norm"), eps);
    const down = refLinear(hidden, N, ffn, P("mlp.down_proj"), d, bit);
    for (let i = 0; i < x.length; i++) x[i] += down[i];
  }
  x = refNorm(x, N, d, p.get("model.norm.weight")!, eps);
  const head = cfg.tie_word_embeddings ? emb : p.get("lm_head.weight")!;
  return refLinear(x, N, d, head, V, false);
}

function paramsOf(m: BitNetLM): Params {
  return new Map(m.namedParameters().map(([n, t]) => [n, Float64Array.from(t.toFloat32Array())]));
}

/** max |a - b| / max |b|. */
function relError(a: Float32Array, b: Float64Array): number {
  let scale = 1e-12;
  let err = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
  return err / scale;
}

test("logits match a float64 implementation of the reference model", () => {
  const B = 2;
  const T = 7;
  const ids = randomIds(B, T, SMALL.vocab_size, 11);
  const idData = ids.data() as Int32Array;
  const cases: [BitNetConfig, number][] = [
    [{ ...SMALL, linear: "fp32" }, 1e-5],
    [{ ...SMALL, linear: "fp32", hidden_act: "silu", tie_word_embeddings: false, rope_theta: 500000 }, 1e-5],
    [{ ...SMALL, linear: "fp32", gated: false, sub_norm: false, num_key_value_heads: 1 }, 1e-5],
    // Quantized: our f32 activations can land on the other side of a rounding boundary than the
    // float64 ones, moving an output by about one int8 step; a wiring error moves it by O(1).
    [{ ...SMALL, linear: "bitnet" }, 2e-3],
    [{ ...SMALL, linear: "bitnet", num_key_value_heads: 4, tie_word_embeddings: false }, 2e-3],
  ];
  for (const [cfg, tol] of cases) {
    const m = new BitNetLM(cfg, { seed: 5 });
    // Give the norms non-trivial weights so a swapped or skipped norm shows.
    noGrad(() => {
      let k = 0;
      for (const [name, p] of m.namedParameters()) if (/norm/.test(name)) p.data().forEach((_, i, a) => (a[i] = 0.5 + ((i * 7 + k++) % 11) / 10));
    });
    const logits = noGrad(() => m.forward(ids));
    assert.deepEqual(logits.shape, [B, T, SMALL.vocab_size]);
    const ref = referenceLogits(paramsOf(m), m.config, idData, B, T);
    const err = relError(logits.toFloat32Array(), ref);
    assert.ok(err < tol, `${JSON.stringify(cfg)}: relative error ${err}`);
    logits.dispose();
    m.dispose();
  }
  ids.dispose();
});

test("same seed gives bit-identical logits; a state dict loaded into another model gives identical logits", () => {
  const ids = randomIds(2, 9, SMALL.vocab_size, 3);
  for (const linear of ["bitnet", "fp32"] as const) {
    const a = new BitNetLM({ ...SMALL, linear }, { seed: 42 });
    const b = new BitNetLM({ ...SMALL, linear }, { seed: 42 });
    const c = new BitNetLM({ ...SMALL, linear }, { seed: 43 });
    noGrad(() =>
      tidy(() => {
        const la = a.forward(ids).toFloat32Array();
        assert.deepEqual(b.forward(ids).toFloat32Array(), la, `${linear}: same seed`);
        const lc = c.forward(ids).toFloat32Array();
        assert.notDeepEqual(lc, la);
        c.loadStateDict(a.stateDict());
        assert.deepEqual(c.forward(ids).toFloat32Array(), la, `${linear}: after loadStateDict`);
      }),
    );
    for (const m of [a, b, c]) m.dispose();
  }
  // Loading across configurations fails with the key and both shapes.
  const small = new BitNetLM(SMALL);
  const wide = new BitNetLM({ ...SMALL, intermediate_size: 128 });
  tidy(() => {
    assert.throws(
      () => wide.loadStateDict(small.stateDict()),
      /^RangeError: BitNetLM.loadStateDict: shape mismatch for 'model.layers.0.mlp.gate_proj.weight': the model has \[128, 64\], the state dict has \[96, 64\]/,
    );
    const untied = new BitNetLM({ ...SMALL, tie_word_embeddings: false });
    assert.throws(() => untied.loadStateDict(small.stateDict()), /^RangeError: BitNetLM.loadStateDict: missing keys \(strict\): 'lm_head.weight' \[50, 64\] f32/);
    assert.throws(() => small.loadStateDict(untied.stateDict()), /^RangeError: BitNetLM.loadStateDict: unexpected keys \(strict\): 'lm_head.weight' \[50, 64\] f32/);
    untied.dispose();
  });
  small.dispose();
  wide.dispose();
  ids.dispose();
});

test("backward fills a gradient for every parameter and one SGD step lowers the loss (fp32 and bitnet)", () => {
  const ids = randomIds(2, 12, SMALL.vocab_size, 7);
  const targets = randomIds(2, 12, SMALL.vocab_size, 8);
  for (const linear of ["fp32", "bitnet"] as const) {
    const m = new BitNetLM({ ...SMALL, linear }, { seed: 1 });
    const live = memoryStats().liveTensors;
    const before = tidy(() => {
      const loss = m.loss(ids, targets);
      assert.deepEqual(loss.shape, []);
      loss.backward();
      return loss.item();
    });
    // At init the logits are near zero: the loss is about ln(vocab).
    assert.ok(Math.abs(before - Math.log(SMALL.vocab_size)) < 0.1, `${linear}: initial loss ${before}`);
    for (const [name, p] of m.namedParameters()) {
      assert.ok(p.grad !== null, `${linear}: ${name} has no gradient`);
      assert.deepEqual(p.grad.shape, p.shape, name);
      const g = p.grad.data();
      assert.ok(g.every(Number.isFinite) && g.some((v) => v !== 0), `${linear}: ${name} gradient is zero or not finite`);
    }
    // Only the gradients outlive the step's tidy().
    assert.equal(memoryStats().liveTensors, live + m.parameters().length);
    noGrad(() => {
      for (const p of m.parameters()) {
        const w = p.data();
        const g = p.grad!.data();
        for (let i = 0; i < w.length; i++) w[i] -= 0.1 * g[i];
      }
    });
    m.zeroGrad();
    const after = noGrad(() => tidy(() => m.loss(ids, targets).item()));
    assert.ok(after < before, `${linear}: loss ${before} -> ${after}`);
    m.dispose();
  }
  ids.dispose();
  targets.dispose();
});

test("without gradients the forward frees its intermediates; quantization lambda is settable", () => {
  const m = new BitNetLM(SMALL);
  const ids = randomIds(1, 5, SMALL.vocab_size, 2);
  const live = memoryStats().liveTensors;
  const logits = noGrad(() => m.forward(ids));
  assert.equal(memoryStats().liveTensors, live + 1);
  m.setQuantizationLambda(0);
  assert.ok(m.bitLinears().every((l) => l.lambda === 0));
  // lambda 0 is the float model: the same weights in fp32 mode give the same logits.
  const fp = new BitNetLM({ ...SMALL, linear: "fp32" });
  noGrad(() =>
    tidy(() => {
      fp.loadStateDict(m.stateDict());
      const a = m.forward(ids).toFloat32Array();
      const b = fp.forward(ids).toFloat32Array();
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-5, `logit ${i}: ${a[i]} vs ${b[i]}`);
    }),
  );
  assert.throws(() => m.setQuantizationLambda(2), /^RangeError: BitLinear.lambda: lambda must be a number in \[0, 1\], received 2/);
  for (const t of [logits, ids]) t.dispose();
  m.dispose();
  fp.dispose();
});

test("toString prints the HF module tree with counts", () => {
  const m = new BitNetLM(SMALL);
  const s = m.toString();
  const lines = s.split("\n");
  assert.equal(lines[0], "BitNetLM(  # 65,280 parameters");
  assert.equal(lines[1], "  linear=bitnet, vocab_size=50, hidden_size=64, tie_word_embeddings=true");
  for (const line of [
    "  (model): BitNetModel(  # 65,280 parameters",
    "    (embed_tokens): Embedding(50, 64)  # weight [50, 64]: 3,200 parameters",
    "    (layers): ModuleList(  # 62,016 parameters",
    "      (0-1): 2 x BitNetBlock(  # 31,008 parameters each",
    "        (input_layernorm): RMSNorm(64, eps=0.00001)  # weight [64]: 64 parameters",
    "        (self_attn): BitNetAttention(  # 12,352 parameters",
    "          heads=4, kv_heads=2, head_dim=16",
    "          (q_proj): BitLinear(inFeatures=64, outFeatures=64, lambda=1)  # weight [64, 64]: 4,096 parameters",
    "          (k_proj): BitLinear(inFeatures=64, outFeatures=32, lambda=1)  # weight [32, 64]: 2,048 parameters",
    "        (mlp): BitNetMLP(  # 18,528 parameters",
    "          act=relu2, gated=true",
    "          (ffn_sub_norm): RMSNorm(96, eps=0.00001)  # weight [96]: 96 parameters",
    "    (norm): RMSNorm(64, eps=0.00001)  # weight [64]: 64 parameters",
  ]) {
    assert.ok(lines.includes(line), `missing line:\n${line}\nin:\n${s}`);
  }
  m.dispose();
});

test("bad configs, options and inputs are clear errors", () => {
  const bad = (patch: Record<string, unknown>): (() => unknown) => () => new BitNetLM({ ...SMALL, ...patch } as BitNetConfig);
  assert.throws(bad({ num_attention_heads: 3 }), /^RangeError: BitNetLM: config.num_attention_heads must divide config.hidden_size, received hidden_size 64 and num_attention_heads 3/);
  assert.throws(bad({ num_key_value_heads: 3 }), /^RangeError: BitNetLM: config.num_attention_heads must be a multiple of config.num_key_value_heads, received num_attention_heads 4 and num_key_value_heads 3/);
  assert.throws(bad({ hidden_size: 36, num_attention_heads: 4 }), /^RangeError: BitNetLM: the head size hidden_size \/ num_attention_heads must be even \(RoPE rotates pairs\), received 36 \/ 4 = 9/);
  assert.throws(bad({ hidden_act: "gelu" }), /^RangeError: BitNetLM: config.hidden_act must be 'relu2' or 'silu', received 'gelu'/);
  assert.throws(bad({ hidden_size: -64 }), /^RangeError: BitNetLM: config.hidden_size must be a positive integer, received -64/);
  assert.throws(bad({ intermediate_size: 0 }), /^RangeError: BitNetLM: config.intermediate_size must be a positive integer, received 0/);
  assert.throws(bad({ vocab_size: undefined }), /^TypeError: BitNetLM: config.vocab_size must be a positive integer, received undefined/);
  assert.throws(bad({ num_hidden_layers: 1.5 }), /^RangeError: BitNetLM: config.num_hidden_layers must be a positive integer, received 1.5/);
  assert.throws(bad({ rope_theta: -1 }), /^RangeError: BitNetLM: config.rope_theta must be a finite number > 0, received -1/);
  assert.throws(bad({ rms_norm_eps: NaN }), /^RangeError: BitNetLM: config.rms_norm_eps must be a finite number > 0, received NaN/);
  assert.throws(bad({ tie_word_embeddings: "yes" }), /^TypeError: BitNetLM: config.tie_word_embeddings must be a boolean, received 'yes'/);
  assert.throws(bad({ linear: "int4" }), /^RangeError: BitNetLM: config.linear must be 'bitnet' or 'fp32', received 'int4'/);
  assert.throws(bad({ hiden_size: 64 }), /^RangeError: BitNetLM: unknown config field 'hiden_size'; the fields are hidden_size, /);
  assert.throws(() => new BitNetLM(null as unknown as BitNetConfig), /^TypeError: BitNetLM: config must be an object/);
  assert.throws(() => new BitNetLM(SMALL, { seed: -1 }), /^RangeError: BitNetLM: seed must be a non-negative integer, received -1/);
  assert.throws(() => resolveBitNetConfig({ ...SMALL, max_position_embeddings: 0 }), /^RangeError: resolveBitNetConfig: config.max_position_embeddings must be a positive integer, received 0/);
  const defaults = resolveBitNetConfig(SMALL);
  assert.deepEqual(
    { ...defaults },
    { ...SMALL, rope_theta: 10000, rms_norm_eps: 1e-5, hidden_act: "relu2", tie_word_embeddings: true, max_position_embeddings: 2048, linear: "bitnet", sub_norm: true, gated: true, backward_precision: "fp32" },
  );
  assert.ok(Object.isFrozen(defaults));

  const m = new BitNetLM({ ...SMALL, max_position_embeddings: 8 });
  tidy(() => {
    assert.throws(() => m.forward(fromArray([[1, 50, 3]], { dtype: "i32" })), /^RangeError: BitNetLM.forward: ids must be in \[0, 50\) \(config.vocab_size\), received 50 at \[0, 1\]/);
    assert.throws(() => m.forward(fromArray([[1, -2]], { dtype: "i32" })), /^RangeError: BitNetLM.forward: ids must be in \[0, 50\) \(config.vocab_size\), received -2 at \[0, 1\]/);
    assert.throws(() => m.forward(fromArray([[1, 2]]) as unknown as Tensor<"i32">), /^TypeError: BitNetLM.forward: ids must have dtype 'i32', received 'f32'/);
    assert.throws(() => m.forward(fromArray([1, 2], { dtype: "i32" })), /^RangeError: BitNetLM.forward: ids must have shape \[batch, length\] with both at least 1, received \[2\]/);
    assert.throws(() => m.forward(randomIds(1, 9, 50, 1)), /^RangeError: BitNetLM.forward: ids has length 9, more than config.max_position_embeddings 8 \(shape \[1, 9\]\)/);
    const ids = fromArray([[1, 2, 3]], { dtype: "i32" });
    assert.throws(() => m.loss(ids, fromArray([[1, 2]], { dtype: "i32" })), /^RangeError: BitNetLM.loss: targets must have the shape of ids \[1, 3\], received \[1, 2\]/);
    assert.throws(() => m.loss(ids, fromArray([[1, 2, 77]], { dtype: "i32" })), /^RangeError: BitNetLM.loss: targets must be in \[0, 50\) \(config.vocab_size\), received 77 at \[0, 2\]/);
    // A sequence of exactly max_position_embeddings is fine.
    assert.deepEqual(noGrad(() => m.forward(randomIds(1, 8, 50, 1))).shape, [1, 8, 50]);
  });
  m.dispose();
  assert.throws(() => m.forward(randomIds(1, 2, 50, 1)), /^Error: BitNetLM.forward: the module was disposed/);
});
