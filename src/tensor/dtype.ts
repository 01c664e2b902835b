// Element types. f16 and bf16 are stored as raw 16-bit patterns (Uint16Array); ternary2 packs
// four weights a byte (code = w + 1, element i at bits 2*(i%4) of byte i/4, low bits first).
// Kernels that prefer other packed layouts (I2_S, the Hugging Face layout) repack on load.
import { describe, withArticle } from "../validate";

/** Tensor element types. */
export type DType = "f32" | "f16" | "bf16" | "i8" | "i32" | "u8" | "ternary2";

/** The typed array a tensor of each dtype exposes through `data()`. */
export type DataArray<D extends DType = DType> = D extends "f32"
  ? Float32Array
  : D extends "f16" | "bf16"
    ? Uint16Array
    : D extends "i8"
      ? Int8Array
      : D extends "i32"
        ? Int32Array
        : D extends "u8" | "ternary2"
          ? Uint8Array
          : never;

/** Any typed array a tensor can expose. */
export type AnyDataArray = Float32Array | Uint16Array | Int8Array | Int32Array | Uint8Array;

type ArrayCtor = { new (buffer: ArrayBuffer, byteOffset: number, length: number): AnyDataArray; BYTES_PER_ELEMENT: number };

interface DTypeInfo {
  /** Bytes per storage element of the typed array. */
  itemBytes: number;
  array: ArrayCtor;
  float: boolean;
  min: number;
  max: number;
}

const INFO: Record<DType, DTypeInfo> = {
  f32: { itemBytes: 4, array: Float32Array, float: true, min: -Infinity, max: Infinity },
  f16: { itemBytes: 2, array: Uint16Array, float: true, min: -65504, max: 65504 },
  bf16: { itemBytes: 2, array: Uint16Array, float: true, min: -Infinity, max: Infinity },
  i8: { itemBytes: 1, array: Int8Array, float: false, min: -128, max: 127 },
  i32: { itemBytes: 4, array: Int32Array, float: false, min: -2147483648, max: 2147483647 },
  u8: { itemBytes: 1, array: Uint8Array, float: false, min: 0, max: 255 },
  ternary2: { itemBytes: 1, array: Uint8Array, float: false, min: -1, max: 1 },
};

/** All dtype names. */
export const DTYPES: readonly DType[] = Object.keys(INFO) as DType[];

export function isDType(value: unknown): value is DType {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(INFO, value);
}

/** Throws a TypeError naming `arg` when `value` is not a dtype. */
export function checkDType(value: unknown, arg: string): DType {
  if (!isDType(value)) {
    throw new TypeError(`${arg} must be one of ${DTYPES.map((d) => `'${d}'`).join(", ")}, received ${describe(value)}`);
  }
  return value;
}

export function dtypeInfo(dtype: DType): DTypeInfo {
  return INFO[dtype];
}

export function isFloat(dtype: DType): boolean {
  return INFO[dtype].float;
}

/** Bytes of storage for `numel` elements of `dtype`. */
export function storageBytes(dtype: DType, numel: number): number {
  return dtype === "ternary2" ? Math.ceil(numel / 4) : numel * INFO[dtype].itemBytes;
}

/** Typed-array elements of storage for `numel` elements. */
export function storageLength(dtype: DType, numel: number): number {
  return dtype === "ternary2" ? Math.ceil(numel / 4) : numel;
}

/** The dtype a typed array naturally holds, or undefined. */
export function dtypeOfArray(array: ArrayBufferView): DType | undefined {
  if (array instanceof Float32Array) return "f32";
  if (array instanceof Int8Array) return "i8";
  if (array instanceof Int32Array) return "i32";
  if (array instanceof Uint8Array) return "u8";
  return undefined;
}

// describe() and withArticle() live in the validation module; re-exported for the tensor layer.
export { describe, withArticle };
