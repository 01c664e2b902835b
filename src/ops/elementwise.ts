// Elementwise ops: binary arithmetic with NumPy broadcasting, unary activations, dropout. Each
// op's forward and backward sit side by side; every loop runs over plain Float32Arrays.
import { Tensor, fillOutput } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import { contiguousStrides, formatShape, numelOf } from "../tensor/shape";
import { Generator, defaultGenerator } from "../tensor/random";
import { record } from "../autograd/tape";
import * as native from "../backend/kernels";
import { broadcastShapes, checkInput, checkNumber, readF32, sameShape } from "./util";

// ---------------------------------------------------------------------------------------------
// Broadcasting kernels

const ADD = 0;
const SUB = 1;
const MUL = 2;
const DIV = 3;
type BinaryOp = typeof ADD | typeof SUB | typeof MUL | typeof DIV;

/** How an operand's elements map onto the output seen as [outer, inner] (see `layoutOf`). */
const FULL = 0; // one element per output element
const ROW = 1; // operand[j]: repeated over the leading dims ([B,T,C] with [C])
const COL = 2; // operand[o]: repeated over the trailing dims ([N,C] with [N,1]; a scalar)
const OTHER = 3; // needs the general strided path

/** The elements and shape of an operand; a number is a 0-d operand of one element. */
interface Operand {
  data: Float32Array;
  shape: readonly number[];
  release(): void;
}

function operandOf(v: Tensor<"f32"> | number): Operand {
  if (typeof v === "number") return { data: Float32Array.of(v), shape: [], release() {} };
  const r = readF32(v);
  return { data: r.data, shape: v.shape, release: r.release };
}

/**
 * Classifies operand shape `p` against the (non-empty) output shape `s` it broadcasts to.
 * ROW/COL also return the size of the output's inner block: for ROW the operand has `inner`
 * elements, for COL it has `numel(s) / inner`.
 */
function layoutOf(p: readonly number[], s: readonly number[]): { kind: number; inner: number } {
  const n = s.length;
  const pad = n - p.length;
  const total = numelOf(s);
  const count = numelOf(p);
  if (count === total) return { kind: FULL, inner: total };
  // COL: p matches s on a leading block and is 1 after it (a single element matches with k = 0).
  let k = 0;
  while (k < n && (k < pad ? 1 : p[k - pad]) === s[k]) k++;
  let ones = true;
  for (let i = k; i < n; i++) if ((i < pad ? 1 : p[i - pad]) !== 1) ones = false;
  if (ones) return { kind: COL, inner: total / count };
  // ROW: p matches s on a trailing block and is 1 before it.
  k = n;
  while (k > 0 && (k - 1 < pad ? 1 : p[k - 1 - pad]) === s[k - 1]) k--;
  ones = true;
  for (let i = 0; i < k; i++) if ((i < pad ? 1 : p[i - pad]) !== 1) ones = false;
  if (ones) return { kind: ROW, inner: count };
  return { kind: OTHER, inner: 0 };
}

/** Strides of operand shape `p` read over output shape `s`: 0 on broadcast dimensions. */
function broadcastStrides(p: readonly number[], s: readonly number[]): number[] {
  const pad = s.length - p.length;
  const own = contiguousStrides(p);
  const out = new Array<number>(s.length).fill(0);
  for (let i = 0; i < p.length; i++) if (p[i] !== 1) out[i + pad] = own[i];
  return out;
}

/** o = x op y over identical shapes. */
// From NATIVE_MIN_ELEMENTS elements the native kernels (cpu/elementwise, threaded) take over: the
// results are the same bit for bit (each is one correctly rounded float32 operation either way).
const NATIVE_OP = ["add", "sub", "mul", "div"] as const;

function flatKernel(op: BinaryOp, x: Float32Array, y: Float32Array, o: Float32Array, n: number): void {
  if (n >= native.NATIVE_MIN_ELEMENTS && x.length === n && y.length === n && o.length === n) {
    native.elementwise(NATIVE_OP[op], x, y, o);
    return;
  }
  switch (op) {
    case ADD:
      for (let i = 0; i < n; i++) o[i] = x[i] + y[i];
      return;
    case SUB:
      for (let i = 0; i < n; i++) o[i] = x[i] - y[i];
      return;
    case MUL:
      for (let i = 0; i < n; i++) o[i] = x[i] * y[i];
      return;
    case DIV:
      for (let i = 0; i < n; i++) o[i] = x[i] / y[i];
      return;
  }
}

/**
 * o[r, j] = f[r, j] op v[r] (or v[r] op f[r, j] when `vFirst`): v is constant along each run of
 * `inner` elements. A scalar is the case outer = 1.
 */
function colKernel(op: BinaryOp, f: Float32Array, v: Float32Array, o: Float32Array, outer: number, inner: number, vFirst: boolean): void {
  for (let r = 0; r < outer; r++) {
    const c = v[r];
    const base = r * inner;
    const end = base + inner;
    switch (op) {
      case ADD:
        for (let i = base; i < end; i++) o[i] = f[i] + c;
        break;
      case MUL:
        for (let i = base; i < end; i++) o[i] = f[i] * c;
        break;
      case SUB:
        if (vFirst) for (let i = base; i < end; i++) o[i] = c - f[i];
        else for (let i = base; i < end; i++) o[i] = f[i] - c;
        break;
      case DIV:
        if (vFirst) for (let i = base; i < end; i++) o[i] = c / f[i];
        else for (let i = base; i < end; i++) o[i] = f[i] / c;
        break;
    }
  }
}

/** o[r, j] = f[r, j] op v[j] (or v[j] op f[r, j] when `vFirst`): v is repeated for every row. */
function rowKernel(op: BinaryOp, f: Float32Array, v: Float32Array, o: Float32Array, outer: number, inner: number, vFirst: boolean): void {
  for (let r = 0; r < outer; r++) {
    const base = r * inner;
    switch (op) {
      case ADD:
        for (let j = 0; j < inner; j++) o[base + j] = f[base + j] + v[j];
        break;
      case MUL:
        for (let j = 0; j < inner; j++) o[base + j] = f[base + j] * v[j];
        break;
      case SUB:
        if (vFirst) for (let j = 0; j < inner; j++) o[base + j] = v[j] - f[base + j];
        else for (let j = 0; j < inner; j++) o[base + j] = f[base + j] - v[j];
        break;
      case DIV:
        if (vFirst) for (let j = 0; j < inner; j++) o[base + j] = v[j] / f[base + j];
        else for (let j = 0; j < inner; j++) o[base + j] = f[base + j] / v[j];
        break;
    }
  }
}

/**
 * Any broadcast: an odometer over all but the last output dimension, and a strided inner loop
 * over the last (xs/ys are 0 on broadcast dimensions).
 */
function generalKernel(
  op: BinaryOp,
  x: Float32Array,
  xs: readonly number[],
  y: Float32Array,
  ys: readonly number[],
  o: Float32Array,
  shape: readonly number[],
): void {
  const n = shape.length;
  const total = numelOf(shape);
  const last = shape[n - 1];
  const sx = xs[n - 1];
  const sy = ys[n - 1];
  const idx = new Array<number>(n).fill(0);
  let ix = 0;
  let iy = 0;
  for (let base = 0; base < total; base += last) {
    switch (op) {
      case ADD:
        for (let j = 0; j < last; j++) o[base + j] = x[ix + j * sx] + y[iy + j * sy];
        break;
      case SUB:
        for (let j = 0; j < last; j++) o[base + j] = x[ix + j * sx] - y[iy + j * sy];
        break;
      case MUL:
        for (let j = 0; j < last; j++) o[base + j] = x[ix + j * sx] * y[iy + j * sy];
        break;
      case DIV:
        for (let j = 0; j < last; j++) o[base + j] = x[ix + j * sx] / y[iy + j * sy];
        break;
    }
    for (let d = n - 2; d >= 0; d--) {
      idx[d]++;
      ix += xs[d];
      iy += ys[d];
      if (idx[d] < shape[d]) break;
      ix -= xs[d] * shape[d];
      iy -= ys[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** x op y broadcast to `outShape` (already validated), into a new contiguous tensor. */
function binaryRaw(fn: string, op: BinaryOp, x: Operand, y: Operand, outShape: readonly number[]): Tensor<"f32"> {
  return fillOutput(Tensor.empty(outShape, "f32", false, fn), (out) => {
    const o = out.data();
    const total = o.length;
    if (total === 0) return;
    const lx = layoutOf(x.shape, outShape);
    const ly = layoutOf(y.shape, outShape);
    if (lx.kind === FULL && ly.kind === FULL) flatKernel(op, x.data, y.data, o, total);
    else if (lx.kind === FULL && ly.kind === COL) colKernel(op, x.data, y.data, o, total / ly.inner, ly.inner, false);
    else if (lx.kind === COL && ly.kind === FULL) colKernel(op, y.data, x.data, o, total / lx.inner, lx.inner, true);
    else if (lx.kind === FULL && ly.kind === ROW) rowKernel(op, x.data, y.data, o, total / ly.inner, ly.inner, false);
    else if (lx.kind === ROW && ly.kind === FULL) rowKernel(op, y.data, x.data, o, total / lx.inner, lx.inner, true);
    else generalKernel(op, x.data, broadcastStrides(x.shape, outShape), y.data, broadcastStrides(y.shape, outShape), o, outShape);
  });
}

/**
 * Sums gradient `g` over the dimensions along which an input of shape `shape` was broadcast to
 * `g.shape` (NumPy rules: missing leading dimensions and size-1 dimensions), giving the
 * gradient of that input. Always returns a new contiguous tensor of exactly `shape`; sums run
 * in float64. For ops that broadcast their inputs.
 */
export function sumToShape(g: Tensor<"f32">, shape: readonly number[]): Tensor<"f32"> {
  checkInput("sumToShape", "g", g);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TypeError(`sumToShape: shape must be an array of non-negative integers, received ${describe(shape)}`);
  }
  const s = g.shape;
  const pad = s.length - shape.length;
  let ok = pad >= 0;
  for (let i = 0; ok && i < shape.length; i++) if (shape[i] !== 1 && shape[i] !== s[i + pad]) ok = false;
  if (!ok) throw new RangeError(`sumToShape: shape ${formatShape(shape)} does not broadcast to the gradient's shape ${formatShape(s)}`);
  const total = numelOf(s);
  // Every path below writes every element; only an empty gradient (summing to zeros) needs zeroing.
  const out = Tensor.empty(shape, "f32", total === 0, "sumToShape");
  if (total === 0) return out;
  const o = out.data();
  const gr = readF32(g);
  const gd = gr.data;
  const layout = layoutOf(shape, s);
  if (layout.kind === FULL) {
    o.set(gd);
  } else if (layout.kind === COL) {
    // out[r] = sum of a contiguous run of `inner` elements
    const inner = layout.inner;
    const outer = total / inner;
    for (let r = 0; r < outer; r++) {
      let acc = 0;
      const end = (r + 1) * inner;
      for (let i = r * inner; i < end; i++) acc += gd[i];
      o[r] = acc;
    }
  } else if (layout.kind === ROW) {
    // out[j] = sum over rows: accumulate row by row (sequential reads) into float64 sums
    const inner = layout.inner;
    const outer = total / inner;
    const acc = new Float64Array(inner);
    for (let r = 0; r < outer; r++) {
      const base = r * inner;
      for (let j = 0; j < inner; j++) acc[j] += gd[base + j];
    }
    for (let j = 0; j < inner; j++) o[j] = acc[j];
  } else {
    const n = s.length;
    const os = broadcastStrides(shape, s);
    const acc = new Float64Array(o.length);
    const last = s[n - 1];
    const sl = os[n - 1];
    const idx = new Array<number>(n).fill(0);
    let io = 0;
    for (let base = 0; base < total; base += last) {
      for (let j = 0; j < last; j++) acc[io + j * sl] += gd[base + j];
      for (let d = n - 2; d >= 0; d--) {
        idx[d]++;
        io += os[d];
        if (idx[d] < s[d]) break;
        io -= os[d] * s[d];
        idx[d] = 0;
      }
    }
    for (let i = 0; i < o.length; i++) o[i] = acc[i];
  }
  gr.release();
  return out;
}

/** `t` (an owned tensor of the output's shape) reduced to `shape`; disposes `t` when it reduces. */
function reduceTo(t: Tensor<"f32">, shape: readonly number[]): Tensor<"f32"> {
  if (sameShape(t.shape, shape)) return t;
  const r = sumToShape(t, shape);
  t.dispose();
  return r;
}

/** Validates the operands of a binary op and returns the broadcast shape. */
function checkBinary(fn: string, a: unknown, b: unknown): number[] {
  const aIsTensor = a instanceof Tensor;
  const bIsTensor = b instanceof Tensor;
  if (aIsTensor) checkInput(fn, "a", a);
  else if (typeof a !== "number") throw new TypeError(`${fn}: a must be a Tensor or a number, received ${describe(a)}`);
  if (bIsTensor) checkInput(fn, "b", b);
  else if (typeof b !== "number") throw new TypeError(`${fn}: b must be a Tensor or a number, received ${describe(b)}`);
  if (!aIsTensor && !bIsTensor) throw new TypeError(`${fn}: at least one of a and b must be a Tensor, received two numbers (${a} and ${b})`);
  if (!aIsTensor) checkNumber(fn, "a", a);
  if (!bIsTensor) checkNumber(fn, "b", b);
  return broadcastShapes(fn, aIsTensor ? (a as Tensor).shape : [], bIsTensor ? (b as Tensor).shape : []);
}

/** Forward of a binary op; releases the operands' temporaries. */
function binaryForward(fn: string, op: BinaryOp, a: Tensor<"f32"> | number, b: Tensor<"f32"> | number, outShape: readonly number[]): Tensor<"f32"> {
  const x = operandOf(a);
  let y: Operand | undefined;
  try {
    y = operandOf(b);
    return binaryRaw(fn, op, x, y, outShape);
  } finally {
    x.release();
    y?.release();
  }
}

/** The tensors among a and b, in order (numbers take no gradient). */
function tensorInputs(a: Tensor<"f32"> | number, b: Tensor<"f32"> | number): Tensor<"f32">[] {
  const inputs: Tensor<"f32">[] = [];
  if (typeof a !== "number") inputs.push(a);
  if (typeof b !== "number") inputs.push(b);
  return inputs;
}

/** g itself when `shape` is exactly the output's shape (and g is not already taken), else a reduced copy. */
function passGradient(g: Tensor<"f32">, shape: readonly number[], taken: boolean): Tensor<"f32"> {
  if (sameShape(g.shape, shape)) return taken ? g.clone() : g;
  return sumToShape(g, shape);
}

/** Negates a tensor this op owns, in place. */
function negateInPlace(t: Tensor<"f32">): Tensor<"f32"> {
  const d = t.data();
  for (let i = 0; i < d.length; i++) d[i] = -d[i];
  return t;
}

/** g op v broadcast to g's shape, where v is a Tensor input or a number. */
function gradTimes(fn: string, op: BinaryOp, g: Tensor<"f32">, v: Tensor<"f32"> | number): Tensor<"f32"> {
  return binaryForward(fn, op, g, v, g.shape);
}

// ---------------------------------------------------------------------------------------------
// Binary ops

/**
 * a + b with NumPy broadcasting (at least one of a, b is an f32 Tensor; the other may be a
 * number). Gradient: g summed over each input's broadcast dimensions.
 */
export function add(a: Tensor<"f32"> | number, b: Tensor<"f32"> | number): Tensor<"f32"> {
  const shape = checkBinary("add", a, b);
  const out = binaryForward("add", ADD, a, b, shape);
  return record("add", out, tensorInputs(a, b), (g) => {
    const grads: (Tensor<"f32"> | null)[] = [];
    let taken = false;
    for (const t of [a, b]) {
      if (typeof t === "number") continue;
      if (!t.requiresGrad) {
        grads.push(null);
        continue;
      }
      const gt = passGradient(g, t.shape, taken);
      if (gt === g) taken = true;
      grads.push(gt);
    }
    return grads;
  });
}

/** a - b with NumPy broadcasting. Gradients: g and -g, summed over broadcast dimensions. */
export function sub(a: Tensor<"f32"> | number, b: Tensor<"f32"> | number): Tensor<"f32"> {
  const shape = checkBinary("sub", a, b);
  const out = binaryForward("sub", SUB, a, b, shape);
  return record("sub", out, tensorInputs(a, b), (g) => {
    const grads: (Tensor<"f32"> | null)[] = [];
    if (typeof a !== "number") grads.push(a.requiresGrad ? passGradient(g, a.shape, false) : null);
    if (typeof b !== "number") grads.push(b.requiresGrad ? negateInPlace(sumToShape(g, b.shape)) : null);
    return grads;
  });
}

/** a * b with NumPy broadcasting. Gradients: g*b and g*a, summed over broadcast dimensions. */
export function mul(a: Tensor<"f32"> | number, b: Tensor<"f32"> | number): Tensor<"f32"> {
  const shape = checkBinary("mul", a, b);
  const out = binaryForward("mul", MUL, a, b, shape);
  return record("mul", out, tensorInputs(a, b), (g) => {
    // Inputs that need no gradient (a frozen tensor, a mask) get null: nothing is computed for them.
    const grads: (Tensor<"f32"> | null)[] = [];
    if (typeof a !== "number") grads.push(a.requiresGrad ? reduceTo(gradTimes("mul (backward)", MUL, g, b), a.shape) : null);
    if (typeof b !== "number") grads.push(b.requiresGrad ? reduceTo(gradTimes("mul (backward)", MUL, g, a), b.shape) : null);
    return grads;
  });
}

/**
 * a / b with NumPy broadcasting. Gradients: g/b for a and -g*a/b^2 for b, summed over
 * broadcast dimensions.
 */
export function div(a: Tensor<"f32"> | number, b: Tensor<"f32"> | number): Tensor<"f32"> {
  const shape = checkBinary("div", a, b);
  const out = binaryForward("div", DIV, a, b, shape);
  return record("div", out, tensorInputs(a, b), (g) => {
    const needA = typeof a !== "number" && a.requiresGrad;
    const needB = typeof b !== "number" && b.requiresGrad;
    const gOverB = gradTimes("div (backward)", DIV, g, b); // g/b, the output's shape; both gradients start from it
    let gb: Tensor<"f32"> | null = null;
    if (needB) {
      // -g*a/b^2 = -(g/b)*a/b, built from the broadcast kernels so every layout works
      const t = gradTimes("div (backward)", MUL, gOverB, a);
      const u = gradTimes("div (backward)", DIV, t, b);
      t.dispose();
      gb = negateInPlace(reduceTo(u, (b as Tensor<"f32">).shape));
    }
    let ga: Tensor<"f32"> | null = null;
    if (needA) ga = reduceTo(gOverB, (a as Tensor<"f32">).shape);
    else gOverB.dispose();
    const grads: (Tensor<"f32"> | null)[] = [];
    if (typeof a !== "number") grads.push(ga);
    if (typeof b !== "number") grads.push(gb);
    return grads;
  });
}

// ---------------------------------------------------------------------------------------------
// Unary ops

/** Validates x and allocates the output; `xd` must be released by the caller. */
function unaryBegin(fn: string, x: unknown): { out: Tensor<"f32">; o: Float32Array; xd: Float32Array; release(): void } {
  checkInput(fn, "x", x);
  const xr = readF32(x as Tensor<"f32">);
  let out: Tensor<"f32">;
  try {
    out = Tensor.empty(x.shape, "f32", false, fn);
  } catch (e) {
    xr.release();
    throw e;
  }
  return { out, o: out.data(), xd: xr.data, release: xr.release };
}

/** Reads g and allocates the input gradient of shape `shape`. */
function gradBegin(fn: string, g: Tensor<"f32">, shape: readonly number[]): { gx: Tensor<"f32">; d: Float32Array; gd: Float32Array; release(): void } {
  const gx = Tensor.empty(shape, "f32", false, fn);
  const gr = readF32(g);
  return { gx, d: gx.data(), gd: gr.data, release: gr.release };
}

/** -x. */
export function neg(x: Tensor<"f32">): Tensor<"f32"> {
  const { out, o, xd, release } = unaryBegin("neg", x);
  for (let i = 0; i < o.length; i++) o[i] = -xd[i];
  release();
  return record("neg", out, [x], (g) => {
    const { gx, d, gd, release } = gradBegin("neg (backward)", g, x.shape);
    for (let i = 0; i < d.length; i++) d[i] = -gd[i];
    release();
    return [gx];
  });
}

/** x * s for a finite number s. Gradient: s*g. */
export function scale(x: Tensor<"f32">, s: number): Tensor<"f32"> {
  checkInput("scale", "x", x);
  checkNumber("scale", "s", s);
  const { out, o, xd, release } = unaryBegin("scale", x);
  for (let i = 0; i < o.length; i++) o[i] = xd[i] * s;
  release();
  return record("scale", out, [x], (g) => {
    const { gx, d, gd, release } = gradBegin("scale (backward)", g, x.shape);
    for (let i = 0; i < d.length; i++) d[i] = gd[i] * s;
    release();
    return [gx];
  });
}

/** e^x. Gradient: g*e^x (read back from the output, which must stay alive until backward). */
export function exp(x: Tensor<"f32">): Tensor<"f32"> {
  const { out, o, xd, release } = unaryBegin("exp", x);
  for (let i = 0; i < o.length; i++) o[i] = Math.exp(xd[i]);
  release();
  return record("exp", out, [x], (g) => {
    const { gx, d, gd, release } = gradBegin("exp (backward)", g, x.shape);
    const y = out.data();
    for (let i = 0; i < d.length; i++) d[i] = gd[i] * y[i];
    release();
    return [gx];
  });
}

/** Natural logarithm (NaN below 0, -Infinity at 0). Gradient: g/x. */
export function log(x: Tensor<"f32">): Tensor<"f32"> {
  const { out, o, xd, release } = unaryBegin("log", x);
  for (let i = 0; i < o.length; i++) o[i] = Math.log(xd[i]);
  release();
  return record("log", out, [x], (g) => {
    const { gx, d, gd, release } = gradBegin("log (backward)", g, x.shape);
    const xr = readF32(x);
    const v = xr.data;
    for (let i = 0; i < d.length; i++) d[i] = gd[i] / v[i];
    xr.release();
    release();
    return [gx];
  });
}

/** Square root (NaN below 0). Gradient: g/(2 sqrt(x)), from the output (keep it alive until backward). */
export function sqrt(x: Tensor<"f32">): Tensor<"f32"> {
  const { out, o, xd, release } = unaryBegin("sqrt", x);
  for (let i = 0; i < o.length; i++) o[i] = Math.sqrt(xd[i]);
  release();
  return record("sqrt", out, [x], (g) => {
    const { gx, d, gd, release } = gradBegin("sqrt (backward)", g, x.shape);
    const y = out.data();
    for (let i = 0; i < d.length; i++) d[i] = gd[i] / (2 * y[i]);
    release();
    return [gx];
  });
}

/** x^2. Gradient: 2x*g. */
export function square(x: Tensor<"f32">): Tensor<"f32"> {
  const { out, o, xd, release } = unaryBegin("square", x);
  for (let i = 0; i < o.length; i++) o[i] = xd[i] * xd[i];
  release();
  return record("square", out, [x], (g) => {
    const { gx, d, gd, release } = gradBegin("square (backward)", g, x.shape);
    const xr = readF32(x);
    const v = xr.data;
    for (let i = 0; i < d.length; i++) d[i] = 2 * v[i] * gd[i];
    xr.release();
    release();
    return [gx];
  });
}

/** max(x, 0). Gradient: g where x > 0, else 0. */
export function relu(x: Tensor<"f32">): Tensor<"f32"> {
  const { out, o, xd, release } = unaryBegin("relu", x);
  for (let i = 0; i < o.length; i++) o[i] = xd[i] > 0 ? xd[i] : 0;
  release();
  return record("relu", out, [x], (g) => {
    const { gx, d, gd, release } = gradBegin("relu (backward)", g, x.shape);
    const xr = readF32(x);
    const v = xr.data;
    for (let i = 0; i < d.length; i++) d[i] = v[i] > 0 ? gd[i] : 0;
    xr.release();
    release();
    return [gx];
  });
}

/**
 * relu(x)^2, the squared-ReLU FFN activation of BitNet b1.58 (Primer, So et al. 2021).
 * Gradient: 2 relu(x) g.
 */
export function relu2(x: Tensor<"f32">): Tensor<"f32"> {
  const { out, o, xd, release } = unaryBegin("relu2", x);
  if (o.length >= native.NATIVE_MIN_ELEMENTS && xd.length === o.length) {
    native.elementwise("relu2", xd, null, o);
  } else {
    for (let i = 0; i < o.length; i++) {
      const v = xd[i];
      o[i] = v > 0 ? v * v : 0;
    }
  }
  release();
  return record("relu2", out, [x], (g) => {
    const { gx, d, gd, release } = gradBegin("relu2 (backward)", g, x.shape);
    const xr = readF32(x);
    const v = xr.data;
    if (d.length >= native.NATIVE_MIN_ELEMENTS && v.length === d.length && gd.length === d.length) {
      native.elementwise("relu2Backward", v, gd, d);
    } else {
      for (let i = 0; i < d.length; i++) d[i] = v[i] > 0 ? 2 * v[i] * gd[i] : 0;
    }
    xr.release();
    release();
    return [gx];
  });
}

/** 1 / (1 + e^-x). Gradient: g s (1 - s), from the output (keep it alive until backward). */
export function sigmoid(x: Tensor<"f32">): Tensor<"f32"> {
  const { out, o, xd, release } = unaryBegin("sigmoid", x);
  for (let i = 0; i < o.length; i++) o[i] = 1 / (1 + Math.exp(-xd[i]));
  release();
  return record("sigmoid", out, [x], (g) => {
    const { gx, d, gd, release } = gradBegin("sigmoid (backward)", g, x.shape);
    const y = out.data();
    for (let i = 0; i < d.length; i++) d[i] = gd[i] * y[i] * (1 - y[i]);
    release();
    return [gx];
  });
}

/** x * sigmoid(x) (SiLU / swish). Gradient: g s (1 + x (1 - s)), s recomputed from x. */
export function silu(x: Tensor<"f32">): Tensor<"f32"> {
  const { out, o, xd, release } = unaryBegin("silu", x);
  for (let i = 0; i < o.length; i++) {
    const v = xd[i];
    o[i] = v / (1 + Math.exp(-v));
  }
  release();
  return record("silu", out, [x], (g) => {
    const { gx, d, gd, release } = gradBegin("silu (backward)", g, x.shape);
    const xr = readF32(x);
    const xv = xr.data;
    for (let i = 0; i < d.length; i++) {
      const v = xv[i];
      const s = 1 / (1 + Math.exp(-v));
      d[i] = gd[i] * s * (1 + v * (1 - s));
    }
    xr.release();
    release();
    return [gx];
  });
}

/** Hyperbolic tangent. Gradient: g (1 - tanh(x)^2), from the output (keep it alive until backward). */
export function tanh(x: Tensor<"f32">): Tensor<"f32"> {
  const { out, o, xd, release } = unaryBegin("tanh", x);
  for (let i = 0; i < o.length; i++) o[i] = Math.tanh(xd[i]);
  release();
  return record("tanh", out, [x], (g) => {
    const { gx, d, gd, release } = gradBegin("tanh (backward)", g, x.shape);
    const y = out.data();
    for (let i = 0; i < d.length; i++) d[i] = gd[i] * (1 - y[i] * y[i]);
    release();
    return [gx];
  });
}

// ---------------------------------------------------------------------------------------------
// Dropout

/** Options of {@link dropout}. */
export interface DropoutOptions {
  /** Drop only while training; at evaluation dropout is the identity. */
  training: boolean;
  /** Source of the mask (default: defaultGenerator); the same seed gives the same mask. */
  generator?: Generator;
}

// Uniform draws are made in chunks so a large tensor needs no second full-size float buffer.
// A multiple of 4 keeps the stream identical to one big draw (Philox blocks are 4 words).
const DROPOUT_CHUNK = 4096;

/**
 * Inverted dropout: each element is kept with probability 1 - p and scaled by 1/(1-p), else
 * zeroed, so the expected value is unchanged and evaluation needs no rescaling. The identity
 * (a view of x) when `training` is false or p = 0. p must be in [0, 1). The mask is drawn from
 * `opts.generator` (element i is kept when its uniform draw u_i >= p); the backward multiplies
 * g by the same mask and scale.
 */
export function dropout(x: Tensor<"f32">, p: number, opts: DropoutOptions): Tensor<"f32"> {
  checkInput("dropout", "x", x);
  if (typeof p !== "number") throw new TypeError(`dropout: p must be a number in [0, 1), received ${describe(p)}`);
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: p must be in [0, 1), received ${p}`);
  if (opts === null || typeof opts !== "object") {
    throw new TypeError(`dropout: opts must be an object { training: boolean, generator?: Generator }, received ${describe(opts)}`);
  }
  if (typeof opts.training !== "boolean") throw new TypeError(`dropout: opts.training must be a boolean, received ${describe(opts.training)}`);
  const gen = opts.generator ?? defaultGenerator;
  if (!(gen instanceof Generator)) throw new TypeError(`dropout: opts.generator must be a Generator, received ${describe(gen)}`);
  if (!opts.training || p === 0) return record("dropout", x.detach() as Tensor<"f32">, [x], (g) => [g]);

  const n = x.numel;
  // The float32 scale, so the backward multiplies by exactly what an all-ones forward shows.
  const keepScale = Math.fround(1 / (1 - p));
  const mask = new Uint8Array(n);
  const u = new Float32Array(Math.min(n, DROPOUT_CHUNK));
  for (let base = 0; base < n; base += DROPOUT_CHUNK) {
    const count = Math.min(DROPOUT_CHUNK, n - base);
    const chunk = count === u.length ? u : u.subarray(0, count);
    gen.uniform(chunk);
    for (let i = 0; i < count; i++) mask[base + i] = chunk[i] >= p ? 1 : 0;
  }
  const { out, o, xd, release } = unaryBegin("dropout", x);
  for (let i = 0; i < n; i++) o[i] = mask[i] === 1 ? xd[i] * keepScale : 0;
  release();
  return record("dropout", out, [x], (g) => {
    const { gx, d, gd, release } = gradBegin("dropout (backward)", g, x.shape);
    for (let i = 0; i < n; i++) d[i] = mask[i] === 1 ? gd[i] * keepScale : 0;
    release();
    return [gx];
  });
}
