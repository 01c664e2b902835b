// ggml tensor types as GGUF files name them, and codecs for the ones bitnet-lab reads and writes:
// F32, F16, BF16, Q8_0, I8/I16/I32, the ternary TQ1_0 / TQ2_0 (llama.cpp) and I2_S (bitnet.cpp).
//
// Every decoder checks the byte length against the element count before touching a byte, and
// every 2-bit code it meets (code 3 is no ternary value), so a corrupted tensor is a named
// GGUFFormatError, never an out-of-bounds read or silently wrong numbers.
//
// The codecs reinterpret little-endian bytes as typed arrays: big-endian hosts are refused.
import * as os from "node:os";
import * as native from "../backend/kernels";
import { PackedTernary, findInvalidTernaryCode, packTernary } from "../quant";
import { describe } from "../tensor/dtype";
import { f16BitsToNumber, numberToF16Bits } from "../tensor/half";
import { Tensor } from "../tensor/tensor";
import { FormatError } from "../errors";

/**
 * A GGUF file (or a ggml tensor's bytes) that breaks the format; the message names the file
 * (or "<buffer>"), the key or tensor, the problem and what was expected.
 */
export class GGUFFormatError extends FormatError {
  override name = "GGUFFormatError";
  constructor(message: string, options?: ErrorOptions) {
    super("GGUF", message, options);
  }
}

/** ggml type ids (the `type` field of a GGUF tensor info). I2_S (36) is bitnet.cpp's own. */
export const GGML_TYPE = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  Q4_0_4_4: 31,
  Q4_0_4_8: 32,
  Q4_0_8_8: 33,
  TQ1_0: 34,
  TQ2_0: 35,
  I2_S: 36,
} as const;

/** The name of a ggml type: "F32", "TQ2_0", "I2_S", ... */
export type GGMLTypeName = keyof typeof GGML_TYPE;

/** Storage of one ggml type. */
export interface GGMLTypeInfo {
  readonly id: number;
  readonly name: GGMLTypeName;
  /** Elements per block; the innermost dimension (ne[0]) must be a multiple of it. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly blockBytes: number;
  /** Bytes after the blocks, once per tensor (I2_S: its f32 scale and padding, 32). */
  readonly trailerBytes: number;
  /** Whether {@link dequantizeGGML} decodes this type. */
  readonly decodable: boolean;
}

const QK_K = 256;
// [name, elements a block, bytes a block, decodable]; sizes from ggml's block structs.
const TYPE_TABLE: readonly [GGMLTypeName, number, number, boolean][] = [
  ["F32", 1, 4, true],
  ["F16", 1, 2, true],
  ["Q4_0", 32, 18, false],
  ["Q4_1", 32, 20, false],
  ["Q5_0", 32, 22, false],
  ["Q5_1", 32, 24, false],
  ["Q8_0", 32, 34, true],
  ["Q8_1", 32, 36, false],
  ["Q2_K", QK_K, 84, false],
  ["Q3_K", QK_K, 110, false],
  ["Q4_K", QK_K, 144, false],
  ["Q5_K", QK_K, 176, false],
  ["Q6_K", QK_K, 210, false],
  ["Q8_K", QK_K, 292, false],
  ["IQ2_XXS", QK_K, 66, false],
  ["IQ2_XS", QK_K, 74, false],
  ["IQ3_XXS", QK_K, 98, false],
  ["IQ1_S", QK_K, 50, false],
  ["IQ4_NL", 32, 18, false],
  ["IQ3_S", QK_K, 110, false],
  ["IQ2_S", QK_K, 82, false],
  ["IQ4_XS", QK_K, 136, false],
  ["I8", 1, 1, true],
  ["I16", 1, 2, true],
  ["I32", 1, 4, true],
  ["I64", 1, 8, false],
  ["F64", 1, 8, false],
  ["IQ1_M", QK_K, 56, false],
  ["BF16", 1, 2, true],
  ["Q4_0_4_4", 32, 18, false],
  ["Q4_0_4_8", 32, 18, false],
  ["Q4_0_8_8", 32, 18, false],
  ["TQ1_0", QK_K, 54, true],
  ["TQ2_0", QK_K, 66, true],
  // Four weights a byte; bitnet.cpp sizes a tensor numel / 4 + 32 (the f32 scale, then padding).
  ["I2_S", 4, 1, true],
];

/** Bytes after an I2_S tensor's codes: the f32 scale, then zero padding. */
export const I2S_TRAILER_BYTES = 32;

const BY_ID = new Map<number, GGMLTypeInfo>();
const BY_NAME = new Map<string, GGMLTypeInfo>();
for (const [name, blockSize, blockBytes, decodable] of TYPE_TABLE) {
  const info: GGMLTypeInfo = Object.freeze({ id: GGML_TYPE[name], name, blockSize, blockBytes, trailerBytes: name === "I2_S" ? I2S_TRAILER_BYTES : 0, decodable });
  BY_ID.set(info.id, info);
  BY_NAME.set(name, info);
}

/**
 * The storage of a ggml type given by id or name, or undefined for an id or name ggml does not
 * define (or that bitnet-lab does not know).
 */
export function ggmlTypeInfo(type: number | string): GGMLTypeInfo | undefined {
  return typeof type === "number" ? BY_ID.get(type) : typeof type === "string" ? BY_NAME.get(type) : undefined;
}

/**
 * Bytes of a tensor's data, or the reason the shape does not fit the type. `ne` is ggml's order
 * (innermost first); every entry a non-negative safe integer.
 */
export function tensorBytesOrProblem(info: GGMLTypeInfo, ne: readonly number[]): number | string {
  let numel = 1;
  for (const d of ne) numel *= d;
  if (numel > Number.MAX_SAFE_INTEGER) return `it has more than 2^53 elements`;
  const inner = ne.length === 0 ? 1 : ne[0];
  if (inner % info.blockSize !== 0) {
    return `${info.name} stores blocks of ${info.blockSize} elements along the innermost dimension, which is ${inner}, not a multiple of ${info.blockSize}`;
  }
  const bytes = (numel / info.blockSize) * info.blockBytes + info.trailerBytes;
  if (bytes > Number.MAX_SAFE_INTEGER) return `its data would take more than 2^53 bytes`;
  return bytes;
}

/**
 * Bytes a tensor of `type` and row-major `shape` takes in a GGUF file (I2_S: numel / 4 + 32).
 *
 * @throws RangeError for an unknown type, a shape that is not 1 to 4 non-negative integers, or
 *   an innermost dimension that is not a multiple of the type's block size.
 */
export function ggmlTensorBytes(type: number | GGMLTypeName, shape: readonly number[]): number {
  const fn = "ggmlTensorBytes";
  const info = ggmlTypeInfo(type);
  if (info === undefined) throw new RangeError(`${fn}: unknown ggml type ${describe(type)}`);
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > 4) {
    throw new RangeError(`${fn}: shape must be an array of 1 to 4 dimensions, received ${describe(shape)}`);
  }
  shape.forEach((d, i) => {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) throw new RangeError(`${fn}: shape[${i}] must be a non-negative integer, received ${describe(d)}`);
  });
  const bytes = tensorBytesOrProblem(info, [...shape].reverse());
  if (typeof bytes === "string") throw new RangeError(`${fn}: ${info.name} [${shape.join(", ")}]: ${bytes}`);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Codecs

const LITTLE_ENDIAN = os.endianness() === "LE";

function checkHost(fn: string): void {
  if (!LITTLE_ENDIAN) throw new Error(`${fn}: big-endian hosts are not supported (ggml data is little-endian and is read as raw bytes)`);
}

function quote(name: string): string {
  return `'${name.length > 200 ? name.slice(0, 200) + "..." : name}'`;
}

function checkBytes(fn: string, bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fn}: bytes must be a Uint8Array, received ${describe(bytes)}`);
}

function checkCount(fn: string, arg: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${fn}: ${arg} must be a non-negative integer, received ${describe(value)}`);
  }
  return value;
}

/** Throws GGUFFormatError unless `bytes` holds exactly `expected` bytes. */
function checkLength(fn: string, name: string, type: string, bytes: Uint8Array, expected: number, what: string): void {
  if (bytes.length !== expected) {
    throw new GGUFFormatError(`${fn}: ${quote(name)}: ${type} data of ${what} takes ${expected} bytes, received ${bytes.length}`);
  }
}

/** The bytes as little-endian u16 values: a view when aligned, else a copy. */
function u16View(bytes: Uint8Array): Uint16Array {
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  return new Uint16Array(bytes.slice().buffer);
}

function asBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function checkF32Values(fn: string, values: unknown): asserts values is Float32Array {
  if (!(values instanceof Float32Array)) throw new TypeError(`${fn}: values must be a Float32Array, received ${describe(values)}`);
}

/** Decodes F32 data (little-endian) to a new Float32Array. */
export function decodeF32(bytes: Uint8Array, name = "<F32 data>"): Float32Array {
  const fn = "decodeF32";
  checkBytes(fn, bytes);
  checkHost(fn);
  if (bytes.length % 4 !== 0) throw new GGUFFormatError(`${fn}: ${quote(name)}: F32 data must be a multiple of 4 bytes, received ${bytes.length}`);
  return new Float32Array(bytes.slice().buffer);
}

/** Encodes float32 values as F32 data (a copy of their bytes). */
export function encodeF32(values: Float32Array): Uint8Array {
  const fn = "encodeF32";
  checkF32Values(fn, values);
  checkHost(fn);
  return asBytes(values).slice();
}

function decodeHalf(fn: string, dtype: "f16" | "bf16", bytes: Uint8Array, name: string): Float32Array {
  checkBytes(fn, bytes);
  checkHost(fn);
  if (bytes.length % 2 !== 0) throw new GGUFFormatError(`${fn}: ${quote(name)}: ${dtype.toUpperCase()} data must be a multiple of 2 bytes, received ${bytes.length}`);
  const out = new Float32Array(bytes.length / 2);
  if (out.length > 0) native.convert(u16View(bytes), dtype, out, "f32");
  return out;
}

function encodeHalf(fn: string, dtype: "f16" | "bf16", values: Float32Array): Uint8Array {
  checkF32Values(fn, values);
  checkHost(fn);
  const out = new Uint16Array(values.length);
  if (out.length > 0) native.convert(values, "f32", out, dtype);
  return asBytes(out);
}

/** Decodes F16 (IEEE half) data to float32 values. */
export function decodeF16(bytes: Uint8Array, name = "<F16 data>"): Float32Array {
  return decodeHalf("decodeF16", "f16", bytes, name);
}

/** Encodes float32 values as F16 (IEEE half, round to nearest even). */
export function encodeF16(values: Float32Array): Uint8Array {
  return encodeHalf("encodeF16", "f16", values);
}

/** Decodes BF16 data to float32 values. */
export function decodeBF16(bytes: Uint8Array, name = "<BF16 data>"): Float32Array {
  return decodeHalf("decodeBF16", "bf16", bytes, name);
}

/** Encodes float32 values as BF16 (round to nearest even). */
export function encodeBF16(values: Float32Array): Uint8Array {
  return encodeHalf("encodeBF16", "bf16", values);
}

/** Decodes Q8_0 data (blocks of 32: f16 d, then 32 int8 q; value = q * d) to float32 values. */
export function decodeQ8_0(bytes: Uint8Array, numel: number, name = "<Q8_0 data>"): Float32Array {
  const fn = "decodeQ8_0";
  checkBytes(fn, bytes);
  checkCount(fn, "numel", numel);
  if (numel % 32 !== 0) throw new RangeError(`${fn}: numel must be a multiple of 32 (the Q8_0 block), received ${numel}`);
  checkLength(fn, name, "Q8_0", bytes, (numel / 32) * 34, `${numel} elements`);
  const out = new Float32Array(numel);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < numel / 32; b++) {
    const at = b * 34;
    const d = f16BitsToNumber(view.getUint16(at, true));
    for (let j = 0; j < 32; j++) out[b * 32 + j] = view.getInt8(at + 2 + j) * d;
  }
  return out;
}

// ---- TQ2_0: blocks of 256 in 66 bytes: qs[64], f16 d. In each 32-byte chunk (128 values), byte
// m holds elements m + 32n at bits 2n; code = q + 1.

const TQ2_BLOCK_BYTES = 66;

/** lroundf: halves round away from zero (Math.round sends -0.5 to 0). */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * Encodes float32 values as TQ2_0 the way ggml's reference quantizer does: per block of 256,
 * d = max|x| (stored as f16), q = round(x / d) (halves away from zero) in {-1, 0, 1}, code q + 1.
 * Values that are already ternary times one scale a block (codes * s) come back exactly when s
 * is an f16 value.
 *
 * @throws TypeError unless `values` is a Float32Array; RangeError when its length is not a
 *   multiple of 256 or it holds NaN or infinity.
 */
export function encodeTQ2_0(values: Float32Array): Uint8Array {
  const fn = "encodeTQ2_0";
  checkF32Values(fn, values);
  if (values.length % QK_K !== 0) throw new RangeError(`${fn}: values must hold a multiple of 256 elements (the TQ2_0 block), received ${values.length}`);
  const blocks = values.length / QK_K;
  const out = new Uint8Array(blocks * TQ2_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const x = values.subarray(b * QK_K, (b + 1) * QK_K);
    let amax = 0;
    for (let j = 0; j < QK_K; j++) {
      const a = Math.abs(x[j]);
      if (!Number.isFinite(a)) throw new RangeError(`${fn}: values[${b * QK_K + j}] is ${x[j]}, expected a finite number`);
      if (a > amax) amax = a;
    }
    const id = amax === 0 ? 0 : Math.fround(1 / amax);
    const qs = out.subarray(b * TQ2_BLOCK_BYTES, b * TQ2_BLOCK_BYTES + 64);
    for (let chunk = 0; chunk < 2; chunk++) {
      for (let m = 0; m < 32; m++) {
        let byte = 0;
        for (let n = 0; n < 4; n++) {
          const q = roundHalfAway(Math.fround(x[chunk * 128 + m + 32 * n] * id)) + 1;
          byte |= (q & 3) << (2 * n);
        }
        qs[chunk * 32 + m] = byte;
      }
    }
    view.setUint16(b * TQ2_BLOCK_BYTES + 64, numberToF16Bits(amax), true);
  }
  return out;
}

/** Ternary codes and one scale per 256-value block: value = codes[i] * scales[floor(i / 256)]. */
export interface BlockTernary {
  /** Values in {-1, 0, 1}, in the tensor's row-major order. */
  readonly codes: Int8Array;
  /** One scale per block of 256 values (the block's f16 d as float32). */
  readonly scales: Float32Array;
}

function checkBlockArgs(fn: string, type: string, bytes: unknown, numel: unknown, blockBytes: number, name: string): number {
  checkBytes(fn, bytes);
  const n = checkCount(fn, "numel", numel);
  if (n % QK_K !== 0) throw new RangeError(`${fn}: numel must be a multiple of 256 (the ${type} block), received ${n}`);
  checkLength(fn, name, type, bytes, (n / QK_K) * blockBytes, `${n} elements`);
  return n / QK_K;
}

/**
 * Decodes TQ2_0 data to ternary codes and per-block scales.
 *
 * @throws GGUFFormatError naming `name` when the byte length is not numel / 256 * 66 or a 2-bit
 *   code is 3 (no ternary value); RangeError when numel is not a multiple of 256.
 */
export function decodeTQ2_0Ternary(bytes: Uint8Array, numel: number, name = "<TQ2_0 data>"): BlockTernary {
  const fn = "decodeTQ2_0Ternary";
  const blocks = checkBlockArgs(fn, "TQ2_0", bytes, numel, TQ2_BLOCK_BYTES, name);
  return tq2Decode(fn, bytes, blocks, name);
}

function tq2Decode(fn: string, bytes: Uint8Array, blocks: number, name: string): BlockTernary {
  const codes = new Int8Array(blocks * QK_K);
  const scales = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const at = b * TQ2_BLOCK_BYTES;
    for (let chunk = 0; chunk < 2; chunk++) {
      for (let m = 0; m < 32; m++) {
        const byte = bytes[at + chunk * 32 + m];
        for (let n = 0; n < 4; n++) {
          const code = (byte >> (2 * n)) & 3;
          const element = b * QK_K + chunk * 128 + 32 * n + m;
          if (code === 3) {
            throw new GGUFFormatError(`${fn}: ${quote(name)}: element ${element} (block ${b}, byte ${chunk * 32 + m}, bits ${2 * n}-${2 * n + 1}) has the code 3, expected 0, 1 or 2 (-1, 0, +1)`);
          }
          codes[element] = code - 1;
        }
      }
    }
    scales[b] = f16BitsToNumber(bytes[at + 64] | (bytes[at + 65] << 8));
  }
  return { codes, scales };
}

function expand(t: BlockTernary): Float32Array {
  const out = new Float32Array(t.codes.length);
  for (let i = 0; i < out.length; i++) out[i] = t.codes[i] * t.scales[i >> 8];
  return out;
}

/**
 * Decodes TQ2_0 data to float32 values (code - 1) * d, as ggml dequantizes it.
 *
 * @throws as {@link decodeTQ2_0Ternary}.
 */
export function decodeTQ2_0(bytes: Uint8Array, numel: number, name = "<TQ2_0 data>"): Float32Array {
  const fn = "decodeTQ2_0";
  const blocks = checkBlockArgs(fn, "TQ2_0", bytes, numel, TQ2_BLOCK_BYTES, name);
  return expand(tq2Decode(fn, bytes, blocks, name));
}

// ---- TQ1_0: blocks of 256 in 54 bytes: qs[48] (five trits a byte), qh[4] (four), f16 d. A byte
// holding trits t0..t4 (t0 most significant) stores ceil((t0*81 + t1*27 + t2*9 + t3*3 + t4) * 256
// / 243); trit n comes back as the top base-3 digit of the byte times 3^n, modulo 256. Elements:
// qs[0..32) hold 0..160 (byte m, trit n -> m + 32n), qs[32..48) hold 160..240 (160 + m + 16n),
// qh[0..4) hold 240..256 (240 + j + 4n).

const TQ1_BLOCK_BYTES = 54;
const POW3 = [1, 3, 9, 27, 81];

function trit(byte: number, n: number): number {
  return (((byte * POW3[n]) & 0xff) * 3) >> 8;
}

function tq1Decode(bytes: Uint8Array, blocks: number): BlockTernary {
  const codes = new Int8Array(blocks * QK_K);
  const scales = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const at = b * TQ1_BLOCK_BYTES;
    const base = b * QK_K;
    for (let n = 0; n < 5; n++) {
      for (let m = 0; m < 32; m++) codes[base + 32 * n + m] = trit(bytes[at + m], n) - 1;
      for (let m = 0; m < 16; m++) codes[base + 160 + 16 * n + m] = trit(bytes[at + 32 + m], n) - 1;
    }
    for (let n = 0; n < 4; n++) {
      for (let j = 0; j < 4; j++) codes[base + 240 + 4 * n + j] = trit(bytes[at + 48 + j], n) - 1;
    }
    scales[b] = f16BitsToNumber(bytes[at + 52] | (bytes[at + 53] << 8));
  }
  return { codes, scales };
}

/**
 * Decodes TQ1_0 data to ternary codes and per-block scales (every byte decodes to valid trits).
 *
 * @throws GGUFFormatError naming `name` when the byte length is not numel / 256 * 54;
 *   RangeError when numel is not a multiple of 256.
 */
export function decodeTQ1_0Ternary(bytes: Uint8Array, numel: number, name = "<TQ1_0 data>"): BlockTernary {
  const blocks = checkBlockArgs("decodeTQ1_0Ternary", "TQ1_0", bytes, numel, TQ1_BLOCK_BYTES, name);
  return tq1Decode(bytes, blocks);
}

/** Decodes TQ1_0 data to float32 values (trit - 1) * d, as ggml dequantizes it. */
export function decodeTQ1_0(bytes: Uint8Array, numel: number, name = "<TQ1_0 data>"): Float32Array {
  const blocks = checkBlockArgs("decodeTQ1_0", "TQ1_0", bytes, numel, TQ1_BLOCK_BYTES, name);
  return expand(tq1Decode(bytes, blocks));
}

// ---- I2_S (bitnet.cpp, x86 layout): numel / 4 bytes of codes in blocks of 128 weights along each
// row (byte j of a 32-byte block holds weights j, j+32, j+64, j+96 at bits 6, 4, 2, 0), then the
// f32 scale, then zero padding: numel / 4 + 32 bytes.

function checkMatrix(fn: string, n: unknown, k: unknown): [number, number] {
  const rows = checkCount(fn, "n", n);
  const cols = checkCount(fn, "k", k);
  if (rows < 1 || cols < 1) throw new RangeError(`${fn}: n and k must be at least 1, received n = ${rows}, k = ${cols}`);
  if (rows * cols > Number.MAX_SAFE_INTEGER) throw new RangeError(`${fn}: n * k = ${rows} * ${cols} is too large`);
  return [rows, cols];
}

/**
 * Encodes an [n, k] ternary matrix as I2_S data (x86 layout, packed by the native packer): the
 * codes, the f32 `scale`, zero padding; n * k / 4 + 32 bytes.
 *
 * @param codes Row-major values in {-1, 0, 1}, n * k of them.
 * @param scale What the integer dot products are multiplied by (the weight's mean |W|): finite, > 0.
 * @throws TypeError unless codes is an Int8Array; RangeError when its length is not n * k, k is
 *   not a multiple of 128, a value is outside {-1, 0, 1}, or the scale is not finite and positive.
 */
export function encodeI2S(codes: Int8Array, n: number, k: number, scale: number): Uint8Array {
  const fn = "encodeI2S";
  if (!(codes instanceof Int8Array)) throw new TypeError(`${fn}: codes must be an Int8Array, received ${describe(codes)}`);
  const [rows, cols] = checkMatrix(fn, n, k);
  if (cols % 128 !== 0) throw new RangeError(`${fn}: k must be a multiple of 128 (the I2_S block along a row), received ${cols}`);
  if (codes.length !== rows * cols) throw new RangeError(`${fn}: codes must hold n * k = ${rows * cols} values, received ${codes.length}`);
  if (typeof scale !== "number" || !Number.isFinite(scale) || !(scale > 0)) {
    throw new RangeError(`${fn}: scale must be a finite positive number, received ${describe(scale)}`);
  }
  checkHost(fn);
  for (let i = 0; i < codes.length; i++) {
    const v = codes[i];
    if (v < -1 || v > 1) throw new RangeError(`${fn}: codes[${i}] (row ${Math.floor(i / cols)}, column ${i % cols}) is ${v}, expected -1, 0 or 1`);
  }
  const codeBytes = (rows * cols) / 4;
  const out = new Uint8Array(codeBytes + I2S_TRAILER_BYTES);
  const w = Tensor.wrap(codes, [rows, cols], "i8");
  let packed: PackedTernary | undefined;
  try {
    packed = packTernary(w, { layout: "i2s", scale });
    out.set(packed.data.data().subarray(0, codeBytes));
  } finally {
    packed?.dispose();
    w.dispose();
  }
  new DataView(out.buffer).setFloat32(codeBytes, scale, true);
  return out;
}

/** What {@link decodeI2S} returns. */
export interface DecodedI2S {
  /**
   * The weights as a PackedTernary in layout "i2s" whose data is a view of the given bytes (no
   * copy: keep them alive and unchanged while it is used), scale a [1] tensor. Dispose it.
   */
  readonly packed: PackedTernary;
  /** The tensor's f32 scale. */
  readonly scale: number;
}

/**
 * Reads I2_S data of an [n, k] matrix without copying the codes: checks the length (n * k / 4
 * + 32), that k is a multiple of 128 (the x86 layout: the only one written by bitnet.cpp's x86
 * build), that no 2-bit code is 3, and that the scale is finite and positive.
 *
 * @param name Names the tensor in messages.
 * @throws GGUFFormatError naming `name` for a wrong length, k not a multiple of 128, an invalid
 *   code (with its row and column), or a bad scale; RangeError for n or k below 1.
 */
export function decodeI2S(bytes: Uint8Array, n: number, k: number, name = "<I2_S data>"): DecodedI2S {
  const fn = "decodeI2S";
  checkBytes(fn, bytes);
  const [rows, cols] = checkMatrix(fn, n, k);
  checkHost(fn);
  const label = `${fn}: ${quote(name)}`;
  if (cols % 128 !== 0) {
    throw new GGUFFormatError(`${label}: I2_S rows of ${cols} weights are not a whole number of 128-weight blocks (the x86 layout bitnet-lab reads needs k % 128 == 0)`);
  }
  const codeBytes = (rows * cols) / 4;
  checkLength(fn, name, "I2_S", bytes, codeBytes + I2S_TRAILER_BYTES, `[${rows}, ${cols}]`);
  const codes = bytes.subarray(0, codeBytes);
  const byte = findInvalidTernaryCode(codes);
  if (byte >= 0) {
    // Slot 0 = bits 6-7 (weight j), ... 3 = bits 0-1 (weight j + 96): the first weight in order.
    const marks = codes[byte] & (codes[byte] >> 1) & 0x55;
    let slot = 0;
    while (!(marks & (1 << (6 - 2 * slot)))) slot++;
    const flat = Math.floor(byte / 32) * 128 + (byte % 32) + 32 * slot;
    throw new GGUFFormatError(
      `${label}: weight [${Math.floor(flat / cols)}, ${flat % cols}] (byte ${byte}, bits ${6 - 2 * slot}-${7 - 2 * slot}) has the code 3, expected 0, 1 or 2 (-1, 0, +1)`,
    );
  }
  const scale = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat32(codeBytes, true);
  if (!Number.isFinite(scale) || !(scale > 0)) throw new GGUFFormatError(`${label}: the I2_S scale is ${scale}, expected a finite positive number`);
  const data = Tensor.wrap(codes, [codeBytes], "u8");
  const scaleTensor = Tensor.empty([1], "f32", false, fn);
  scaleTensor.data()[0] = scale;
  return { packed: new PackedTernary("i2s", [rows, cols], data, scaleTensor), scale };
}

/**
 * Decodes a tensor's data of any decodable type (F32, F16, BF16, Q8_0, I8, I16, I32, TQ1_0,
 * TQ2_0, I2_S) to float32 values in row-major order. I2_S gives codes * scale.
 *
 * @param shape Row-major shape (the reverse of GGUF's ne).
 * @throws RangeError for a type without a decoder (Q4_K, ...) or a shape that does not fit the
 *   type; GGUFFormatError naming `name` for data of the wrong length or with invalid codes.
 */
export function dequantizeGGML(type: number | GGMLTypeName, data: Uint8Array, shape: readonly number[], name = "<tensor>"): Float32Array {
  const fn = "dequantizeGGML";
  checkBytes(fn, data);
  const info = ggmlTypeInfo(type);
  if (info === undefined) throw new RangeError(`${fn}: unknown ggml type ${describe(type)}`);
  const expected = ggmlTensorBytes(info.id, shape);
  checkLength(fn, name, info.name, data, expected, `shape [${shape.join(", ")}]`);
  const numel = shape.reduce((a, b) => a * b, 1);
  checkHost(fn);
  if (numel === 0 && info.decodable) return new Float32Array(0);
  switch (info.name) {
    case "F32":
      return decodeF32(data, name);
    case "F16":
      return decodeF16(data, name);
    case "BF16":
      return decodeBF16(data, name);
    case "Q8_0":
      return decodeQ8_0(data, numel, name);
    case "I8":
      return Float32Array.from(new Int8Array(data.buffer, data.byteOffset, data.length));
    case "I16":
      return Float32Array.from(new Int16Array(data.slice().buffer));
    case "I32":
      return Float32Array.from(new Int32Array(data.slice().buffer));
    case "TQ1_0":
      return decodeTQ1_0(data, numel, name);
    case "TQ2_0":
      return decodeTQ2_0(data, numel, name);
    case "I2_S": {
      const k = shape[shape.length - 1];
      const { packed, scale } = decodeI2S(data, numel / k, k, name);
      try {
        const codes = packed.data; // validated above: every code is 0, 1 or 2
        const out = new Float32Array(numel);
        const bytes = codes.data();
        for (let byte = 0; byte < bytes.length; byte++) {
          const base = Math.floor(byte / 32) * 128 + (byte % 32);
          const v = bytes[byte];
          out[base] = ((v >> 6) - 1) * scale;
          out[base + 32] = (((v >> 4) & 3) - 1) * scale;
          out[base + 64] = (((v >> 2) & 3) - 1) * scale;
          out[base + 96] = ((v & 3) - 1) * scale;
        }
        return out;
      } finally {
        packed.dispose();
      }
    }
    default:
      throw new RangeError(`${fn}: ${quote(name)}: bitnet-lab has no decoder for ggml type ${info.name} (${info.id}); it decodes F32, F16, BF16, Q8_0, I8, I16, I32, TQ1_0, TQ2_0, I2_S`);
  }
}
