// The single place that loads the native addon. Everything else reaches native code through
// the typed `addon()` handle, so the profiler (and a future Metal backend) hook in here only.
import * as fs from "node:fs";
import * as path from "node:path";
import { constants as bufferConstants } from "node:buffer";
import { prebuiltAddonPath, prebuiltPlatform } from "./prebuilt";

/** Element types the native kernels accept for the raw typed arrays they are handed. */
export type NativeTypedArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/** Description of the native backend, as reported by the addon. */
export interface NativeBackendInfo {
  /** defaultThreads: the thread pool's default size (the performance cores on Apple Silicon). */
  cpu: { model: string; arch: string; logicalCores: number; defaultThreads: number; features: string[] };
  isa: { best: string; active: string; forced: string | null; supported: string[] };
  threads: number;
  compiler: string;
  /** Compiler flags: `base` for everything, then one entry per ISA variant built. */
  flags: { base: string; [isa: string]: string };
  families: { name: string; chosen: string; available: string[] }[];
  /** Every kernel export of the addon with its family (the variant running it is that family's `chosen`). */
  kernels: { name: string; family: string }[];
  /**
   * How bf16 GEMMs (BitLinear's `backwardPrecision: "bf16"`) run under the active ISA: "native"
   * with bf16 instructions (AVX-512 BF16: operands rounded to bf16, twice the fp32 rate), "fp32"
   * where the ISA has none (the fp32 product: the same speed as fp32, fp32 accuracy).
   */
  bf16Gemm: "native" | "fp32";
  devices: { cpu: boolean; metal: boolean };
  sanitized: boolean;
  napiVersion: number;
}

/** The raw binding surface. Every function validates its arguments natively. */
/** C = alpha * op(A) op(B) + beta * C on row-major Float32Arrays (leading dimensions in elements). */
export type SgemmFn = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

export interface NativeAddon {
  alloc(byteLength: number, zero: boolean): ArrayBuffer;
  free(buffer: ArrayBuffer): boolean;
  alignmentOf(view: ArrayBuffer | ArrayBufferView): number;
  setBufferLimit(byteLength: number): void;
  nativeMemory(): { liveBytes: number; liveAllocations: number; cachedBytes: number };
  convert(src: Float32Array | Uint16Array, srcDtype: string, dst: Float32Array | Uint16Array, dstDtype: string): void;
  stridedCopy(
    src: NativeTypedArray,
    srcOffset: number,
    srcStrides: number[],
    dst: NativeTypedArray,
    dstOffset: number,
    dstStrides: number[],
    shape: number[],
  ): void;
  quantizeActivationsInt8(x: Float32Array, rows: number, cols: number, q: Int8Array, scales: Float32Array, sums: Int32Array): void;
  quantizeWeightsTernary(w: Float32Array, rows: number, cols: number, mode: string, codes: Int8Array, scales: Float32Array): void;
  packTernary(w: Int8Array, rows: number, cols: number, layout: string, out: Uint8Array): void;
  unpackTernary(packed: Uint8Array, rows: number, cols: number, layout: string, out: Int8Array): void;
  ternaryMatmul(
    xq: Int8Array,
    rows: number,
    cols: number,
    xScale: Float32Array,
    xSum: Int32Array,
    w: Uint8Array,
    outFeatures: number,
    wScale: Float32Array,
    out: Float32Array,
  ): void;
  ternaryMatmulGroup(
    xq: Int8Array,
    rows: number,
    cols: number,
    xScale: Float32Array,
    xSum: Int32Array,
    w0: Uint8Array, outFeatures0: number, wScale0: Float32Array, out0: Float32Array,
    w1: Uint8Array, outFeatures1: number, wScale1: Float32Array, out1: Float32Array,
    w2: Uint8Array | null, outFeatures2: number, wScale2: Float32Array | null, out2: Float32Array | null,
  ): void;
  denseMatmul(
    x: Float32Array | Int8Array,
    rows: number,
    cols: number,
    w: Float32Array | Uint16Array | Int8Array,
    format: "f32" | "f16" | "bf16" | "int8",
    outFeatures: number,
    xScale: Float32Array | null,
    wScale: Float32Array | null,
    out: Float32Array,
  ): void;
  streamRead(data: Uint8Array): number;
  /** Runs `iterations` rounds of the active ISA's int8 dot chain on every pool thread; returns the ops done. */
  int8DotPeak(iterations: number): number;
  mapFile(path: string): ArrayBuffer;
  unmapFile(buffer: ArrayBuffer): boolean;
  releaseMappedPages(buffer: ArrayBuffer, byteOffset: number, byteLength: number): void;
  elementwise(op: "add" | "sub" | "mul" | "div" | "relu2" | "relu2Backward", a: Float32Array, b: Float32Array | null, out: Float32Array): void;
  dequantizeTernary(codes: Int8Array, scale: number, out: Float32Array): void;
  dequantizeActivations(q: Int8Array, rows: number, cols: number, scales: Float32Array, out: Float32Array): void;
  rope(x: Float32Array, out: Float32Array, batch: number, seq: number, heads: number, headDim: number, cos: Float32Array, sin: Float32Array, offset: number, sign: number): void;
  adamwUpdate(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, decay: number, beta1: number, beta2: number, stepSize: number, bias2Sqrt: number, eps: number): void;
  sumSquares(x: Float32Array): number;
  crossEntropyForward(logits: Float32Array, rows: number, classes: number, targets: Int32Array, ignoreIndex: number | null, lse: Float64Array, loss: Float64Array): void;
  crossEntropyBackward(
    logits: Float32Array, rows: number, classes: number, targets: Int32Array, ignoreIndex: number | null,
    lse: Float64Array, scale: Float64Array, dx: Float32Array,
  ): void;
  softmaxWeights(z: Float32Array, max: number, invTemperature: number, out: Float32Array): void;
  rmsNormForward(x: Float32Array, w: Float32Array | null, rows: number, d: number, eps: number, out: Float32Array, rstd: Float32Array): void;
  rmsNormBackward(
    g: Float32Array, x: Float32Array, w: Float32Array | null, rstd: Float32Array, rows: number, d: number,
    dx: Float32Array | null, dw: Float32Array | null,
  ): void;
  attentionDecode(
    q: Float32Array,
    k: Float32Array | Uint16Array,
    v: Float32Array | Uint16Array,
    kvLen: number,
    qHeads: number,
    kvHeads: number,
    headDim: number,
    scale: number,
    out: Float32Array,
  ): void;
  attentionForward(
    q: Float32Array, k: Float32Array, v: Float32Array,
    batch: number, qLen: number, kvLen: number, qHeads: number, kvHeads: number, headDim: number, scale: number,
    out: Float32Array, lse: Float32Array,
  ): void;
  attentionBackward(
    q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, lse: Float32Array, dout: Float32Array,
    batch: number, qLen: number, kvLen: number, qHeads: number, kvHeads: number, headDim: number, scale: number,
    dq: Float32Array, dk: Float32Array, dv: Float32Array,
  ): void;
  sgemm: SgemmFn;
  /** sgemm with operands rounded to bfloat16 (float32 accumulation). */
  sgemmBf16: SgemmFn;
  setNumThreads(threads: number): void;
  getNumThreads(): number;
  setIsa(isa: string): string;
  getIsa(): string;
  selectDevice(device: string): string;
  backendInfo(): NativeBackendInfo;
}

let loaded: NativeAddon | undefined;

/** The addon built from source in this package (npm ci in a checkout, or an approved install script). */
const sourceBuild = path.resolve(__dirname, "..", "..", "..", "native", "build", "Release", "bitnet_lab.node");

/**
 * The addon file and where it comes from: BITNET_ADDON_PATH ("forced": the sanitizer and arm64
 * runs use it), else this package's own build ("source"), else the prebuilt package for this
 * platform ("prebuilt"); null when none exists.
 */
export interface AddonLocation {
  file: string;
  source: "forced" | "source" | "prebuilt";
}

export function addonLocation(): AddonLocation | null {
  const forced = process.env.BITNET_ADDON_PATH;
  if (forced) return { file: path.resolve(forced), source: "forced" };
  if (fs.existsSync(sourceBuild)) return { file: sourceBuild, source: "source" };
  const prebuilt = prebuiltAddonPath();
  return prebuilt ? { file: prebuilt, source: "prebuilt" } : null;
}

/** The loaded native addon (loaded on first use). */
export function addon(): NativeAddon {
  if (loaded) return loaded;
  const where = addonLocation();
  const file = where?.file ?? sourceBuild;
  if (!where || !fs.existsSync(file)) {
    const platform = prebuiltPlatform();
    throw new Error(
      `bitnet-lab native addon not found (${file}${platform ? `, nor the prebuilt package ${platform.name}` : ""}). ` +
        (platform
          ? `Install it with \`npm install ${platform.name}\`, or build from source (CMake >= 3.15 and a C++17 compiler): ` +
            "`npm install-scripts approve bitnet-lab && npm rebuild bitnet-lab`, or `npm ci` in a checkout."
          : `No prebuilt addon is published for ${process.platform}-${process.arch}: build from source (CMake >= 3.15 and a C++17 compiler) ` +
            "with `npm install-scripts approve bitnet-lab && npm rebuild bitnet-lab`, or `npm ci` in a checkout."),
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require(file) as NativeAddon;
  mod.setBufferLimit(bufferConstants.MAX_LENGTH);
  loaded = mod;
  return mod;
}
