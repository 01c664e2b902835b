// The GGUF format's types, constants and limits, shared by the reader (gguf-read.ts) and the
// writer (gguf-write.ts). Version 3 (2 reads the same way): a header (magic "GGUF", version,
// tensor count, key-value count), typed key-value metadata, tensor infos (name, dims innermost
// first, ggml type, offset into the data section), zero padding to the alignment, and the data
// section. Little-endian throughout.
import { GGMLTypeName } from "./ggml-types";

/** The value types of GGUF metadata (the file's type ids 0 to 12, in that order). */
export type GGUFValueType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "bool" | "string" | "array" | "u64" | "i64" | "f64";

/** What an array of each element type holds: typed arrays for numbers, so every value round-trips. */
export interface GGUFArrayElements {
  u8: Uint8Array;
  i8: Int8Array;
  u16: Uint16Array;
  i16: Int16Array;
  u32: Uint32Array;
  i32: Int32Array;
  f32: Float32Array;
  bool: boolean[];
  string: string[];
  array: GGUFArray[];
  u64: BigUint64Array;
  i64: BigInt64Array;
  f64: Float64Array;
}

/** A GGUF array: its element type and elements (a nested array is an array of GGUFArray). */
export type GGUFArray = {
  [E in GGUFValueType]: { readonly type: "array"; readonly elementType: E; readonly value: GGUFArrayElements[E] };
}[GGUFValueType];

/** A typed GGUF metadata value: `{ type: "u32", value: 7 }`, `{ type: "u64", value: 7n }`, ... */
export type GGUFValue =
  | { readonly type: "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64"; readonly value: number }
  | { readonly type: "u64" | "i64"; readonly value: bigint }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "string"; readonly value: string }
  | GGUFArray;

/** One tensor of a parsed GGUF file. */
export interface GGUFTensorInfo {
  readonly name: string;
  /** The ggml type id. */
  readonly type: number;
  /** The ggml type's name ("F32", "I2_S", ...). */
  readonly typeName: GGMLTypeName;
  /** Row-major shape, outermost first: the reverse of `ne`. */
  readonly shape: readonly number[];
  /** The dimensions as the file stores them, innermost (contiguous) first. */
  readonly ne: readonly number[];
  /** Byte offset of the data from the start of the data section. */
  readonly offset: number;
  /** Bytes of data (I2_S: numel / 4 + 32). */
  readonly byteLength: number;
  /** The data: a view of the parsed bytes (no copy). */
  readonly data: Uint8Array;
}

/** A parsed GGUF file. */
export interface GGUFFile {
  /** The file path, or the name given to parseGGUF ("<buffer>" by default). */
  readonly name: string;
  /** Format version: 3 (or 2, which has the same layout). */
  readonly version: number;
  /** Alignment of the data section and of every tensor offset (`general.alignment`, default 32). */
  readonly alignment: number;
  /** Metadata in file order. */
  readonly metadata: Map<string, GGUFValue>;
  /** Tensors in file order. */
  readonly tensors: readonly GGUFTensorInfo[];
  /** Byte position of the data section in the file. */
  readonly dataOffset: number;
}

/** A tensor for {@link writeGGUF}. */
export interface GGUFTensorInput {
  /** At most 63 UTF-8 bytes (ggml's name limit). */
  readonly name: string;
  /** ggml type id or name. */
  readonly type: number | GGMLTypeName;
  /** Row-major shape, 1 to 4 dimensions (written reversed, as ne). */
  readonly shape: readonly number[];
  /**
   * Exactly ggmlTensorBytes(type, shape) bytes, or a function returning them, called once when
   * the data is written (writeGGUF: in file order, each result released before the next call).
   */
  readonly data: Uint8Array | (() => Uint8Array);
}

/** What {@link writeGGUF} and {@link encodeGGUF} write. */
export interface GGUFWriteSpec {
  /** Metadata in the order to write (a Map, or an object whose key order is kept). */
  readonly metadata?: ReadonlyMap<string, GGUFValue> | Readonly<Record<string, GGUFValue>>;
  readonly tensors?: readonly GGUFTensorInput[];
  /**
   * Data alignment (a power of two). Default: the metadata's `general.alignment`, else 32. When
   * given and not 32 and the metadata has no `general.alignment`, that key is appended (u32).
   */
  readonly alignment?: number;
}

/** Default alignment of GGUF data when `general.alignment` is absent. */
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** Deepest nesting of arrays in metadata that is read or written (an array of arrays is 2). */
export const GGUF_MAX_ARRAY_DEPTH = 8;
/** Longest tensor name ggml accepts, in UTF-8 bytes (GGML_MAX_NAME - 1). */
export const GGUF_MAX_TENSOR_NAME_BYTES = 63;

export const MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const VALUE_TYPES: readonly GGUFValueType[] = ["u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"];
export const TYPE_ID = new Map<GGUFValueType, number>(VALUE_TYPES.map((t, i) => [t, i]));
// Fewest bytes a value of each type takes (a string: its u64 length; an array: type and count).
export const MIN_BYTES: Record<GGUFValueType, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, string: 8, array: 12, u64: 8, i64: 8, f64: 8 };
// Fewest bytes of a key-value pair (u64 key length, u32 type, a 1-byte value) and of a tensor
// info (u64 name length, u32 n_dims, one u64 ne, u32 type, u64 offset).
export const MIN_KV_BYTES = 13;
export const MIN_INFO_BYTES = 32;
export const TWO_64 = 1n << 64n;

export const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function quote(name: string): string {
  return `'${name.length > 200 ? name.slice(0, 200) + "..." : name}'`;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0 && n <= 2 ** 31;
}

export function describeValue(v: GGUFValue): string {
  if (v.type === "array") return `an array of ${v.value.length} ${v.elementType}`;
  if (v.type === "string") return `the string ${JSON.stringify(v.value.length > 40 ? v.value.slice(0, 40) + "..." : v.value)}`;
  return `${v.type} ${String(v.value)}`;
}
