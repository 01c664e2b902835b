// The single place that loads the native addon. Kernels are called through the gateway
// (src/backend/kernels.ts), which records them for the profiler; only the storage and
// file-mapping owners call addon() directly, for memory.
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

/**
 * The raw binding surface. Every function validates its arguments natively. Memory, mapping and
 * runtime functions are typed here; each kernel export is typed once, by its function of the
 * same name in src/backend/kernels.ts (the gateway), which is how the library calls it.
 */
export interface NativeAddon {
  alloc(byteLength: number, zero: boolean): ArrayBuffer;
  free(buffer: ArrayBuffer): boolean;
  alignmentOf(view: ArrayBuffer | ArrayBufferView): number;
  setBufferLimit(byteLength: number): void;
  nativeMemory(): { liveBytes: number; liveAllocations: number; cachedBytes: number };
  mapFile(path: string): ArrayBuffer;
  unmapFile(buffer: ArrayBuffer): boolean;
  releaseMappedPages(buffer: ArrayBuffer, byteOffset: number, byteLength: number): void;
  setNumThreads(threads: number): void;
  getNumThreads(): number;
  setIsa(isa: string): string;
  getIsa(): string;
  selectDevice(device: string): string;
  backendInfo(): NativeBackendInfo;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [kernel: string]: (...args: any[]) => any;
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
