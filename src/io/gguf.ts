// GGUF files (llama.cpp / bitnet.cpp), version 3 (2 reads the same way): a header (magic "GGUF",
// version, tensor count, key-value count), typed key-value metadata, tensor infos (name, dims
// innermost first, ggml type, offset into the data section), zero padding to the alignment, and
// the data section. Little-endian throughout.
//
// Reading trusts nothing the file says. Every count, length and offset is compared with the bytes
// that are left before anything is allocated or read (a count of 2^63 is an error, not an
// allocation attempt), strings must be UTF-8, arrays nest at most 8 deep, and every tensor's
// shape, type, size, alignment and byte range is checked (inside the file, no overlaps) before
// its data is handed out as a view of the file's bytes: parsing copies no tensor data.
//
// Writing lays tensors out in the given order, each at the next multiple of the alignment (as
// llama.cpp's writer does), and streams the data through writeFileAtomic without concatenating it;
// a tensor's data may be a function that makes it when the writer reaches it, so a converter
// holds one converted tensor at a time, not the whole file.
import { describe } from "../tensor/dtype";
import { writeFileAtomic } from "./atomic";
import { readFileBytes, releaseFileBytes } from "./file-bytes";
import { GGMLTypeInfo, GGMLTypeName, GGUFFormatError, ggmlTypeInfo, tensorBytesOrProblem } from "./ggml-types";

export { GGUFFormatError } from "./ggml-types";

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

const MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const VALUE_TYPES: readonly GGUFValueType[] = ["u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"];
const TYPE_ID = new Map<GGUFValueType, number>(VALUE_TYPES.map((t, i) => [t, i]));
// Fewest bytes a value of each type takes (a string: its u64 length; an array: type and count).
const MIN_BYTES: Record<GGUFValueType, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, string: 8, array: 12, u64: 8, i64: 8, f64: 8 };
// Fewest bytes of a key-value pair (u64 key length, u32 type, a 1-byte value) and of a tensor
// info (u64 name length, u32 n_dims, one u64 ne, u32 type, u64 offset).
const MIN_KV_BYTES = 13;
const MIN_INFO_BYTES = 32;
const TWO_64 = 1n << 64n;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function quote(name: string): string {
  return `'${name.length > 200 ? name.slice(0, 200) + "..." : name}'`;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0 && n <= 2 ** 31;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** A position in the bytes being parsed; every read checks the bytes left first. */
class Cursor {
  pos = 0;
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly fail: (message: string) => never,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get left(): number {
    return this.bytes.length - this.pos;
  }

  need(n: number, what: string): void {
    if (n > this.left) this.fail(`the file ends at byte ${this.bytes.length} inside ${what} (${n} bytes needed at byte ${this.pos})`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++];
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A u64 that must fit a safe integer (sizes, offsets, dimensions). */
  safeU64(what: string): number {
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} is ${v}, more than 2^53 - 1`);
    return Number(v);
  }

  /** A u64 count of items that each take at least `minBytes`: checked against the bytes left. */
  count(what: string, items: string, minBytes: number): number {
    const v = this.u64(what);
    if (v * BigInt(minBytes) > BigInt(this.left)) {
      this.fail(`${what} is ${v}, but only ${this.left} bytes follow (each of the ${items} takes at least ${minBytes} byte${minBytes === 1 ? "" : "s"})`);
    }
    return Number(v);
  }

  string(what: string): string {
    const length = this.u64(`the length of ${what}`);
    if (length > BigInt(this.left)) this.fail(`${what} has length ${length}, but only ${this.left} bytes follow`);
    const n = Number(length);
    const start = this.pos;
    this.pos += n;
    try {
      return utf8.decode(this.bytes.subarray(start, start + n));
    } catch (e) {
      this.fail(`${what} (bytes ${start} to ${start + n}) is not valid UTF-8`);
    }
  }
}

function readValue(c: Cursor, type: GGUFValueType, what: string, depth: number): GGUFValue {
  switch (type) {
    case "u8":
      return { type, value: c.u8(what) };
    case "i8":
      c.need(1, what);
      return { type, value: c.view.getInt8(c.pos++) };
    case "u16":
      c.need(2, what);
      c.pos += 2;
      return { type, value: c.view.getUint16(c.pos - 2, true) };
    case "i16":
      c.need(2, what);
      c.pos += 2;
      return { type, value: c.view.getInt16(c.pos - 2, true) };
    case "u32":
      return { type, value: c.u32(what) };
    case "i32":
      c.need(4, what);
      c.pos += 4;
      return { type, value: c.view.getInt32(c.pos - 4, true) };
    case "f32":
      c.need(4, what);
      c.pos += 4;
      return { type, value: c.view.getFloat32(c.pos - 4, true) };
    case "f64":
      c.need(8, what);
      c.pos += 8;
      return { type, value: c.view.getFloat64(c.pos - 8, true) };
    case "u64":
      return { type, value: c.u64(what) };
    case "i64":
      c.need(8, what);
      c.pos += 8;
      return { type, value: c.view.getBigInt64(c.pos - 8, true) };
    case "bool": {
      const at = c.pos;
      const b = c.u8(what);
      if (b > 1) c.fail(`${what} is a bool stored as ${b} (at byte ${at}), expected 0 or 1`);
      return { type, value: b === 1 };
    }
    case "string":
      return { type, value: c.string(what) };
    case "array":
      return readArray(c, what, depth + 1);
  }
}

function valueType(c: Cursor, what: string): GGUFValueType {
  const at = c.pos;
  const id = c.u32(`the value type of ${what}`);
  const type = VALUE_TYPES[id];
  if (type === undefined) c.fail(`${what} has the unknown value type ${id} (at byte ${at}); GGUF defines 0 to 12`);
  return type;
}

function readArray(c: Cursor, what: string, depth: number): GGUFArray {
  if (depth > GGUF_MAX_ARRAY_DEPTH) c.fail(`${what} nests arrays more than ${GGUF_MAX_ARRAY_DEPTH} deep`);
  const elementType = valueType(c, `the elements of ${what}`);
  const n = c.count(`the element count of ${what}`, `${elementType} elements`, MIN_BYTES[elementType]);
  const v = c.view;
  const at = c.pos;
  const size = MIN_BYTES[elementType];
  // Fixed-size elements: the count check above already guarantees the bytes are there.
  const fixed = elementType !== "string" && elementType !== "array" && elementType !== "bool";
  if (fixed) c.pos += n * size;
  switch (elementType) {
    case "u8":
      return { type: "array", elementType, value: c.bytes.slice(at, at + n) };
    case "i8":
      return { type: "array", elementType, value: new Int8Array(c.bytes.slice(at, at + n).buffer) };
    case "u16": {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getUint16(at + 2 * i, true);
      return { type: "array", elementType, value: out };
    }
    case "i16": {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getInt16(at + 2 * i, true);
      return { type: "array", elementType, value: out };
    }
    case "u32": {
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getUint32(at + 4 * i, true);
      return { type: "array", elementType, value: out };
    }
    case "i32": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getInt32(at + 4 * i, true);
      return { type: "array", elementType, value: out };
    }
    case "f32": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(at + 4 * i, true);
      return { type: "array", elementType, value: out };
    }
    case "f64": {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(at + 8 * i, true);
      return { type: "array", elementType, value: out };
    }
    case "u64": {
      const out = new BigUint64Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getBigUint64(at + 8 * i, true);
      return { type: "array", elementType, value: out };
    }
    case "i64": {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getBigInt64(at + 8 * i, true);
      return { type: "array", elementType, value: out };
    }
    case "bool": {
      const out: boolean[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = (readValue(c, "bool", `element ${i} of ${what}`, depth) as { value: boolean }).value;
      return { type: "array", elementType, value: out };
    }
    case "string": {
      const out: string[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = c.string(`element ${i} of ${what}`);
      return { type: "array", elementType, value: out };
    }
    case "array": {
      const out: GGUFArray[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = readArray(c, `element ${i} of ${what}`, depth + 1);
      return { type: "array", elementType, value: out };
    }
  }
}

function describeValue(v: GGUFValue): string {
  if (v.type === "array") return `an array of ${v.value.length} ${v.elementType}`;
  if (v.type === "string") return `the string ${JSON.stringify(v.value.length > 40 ? v.value.slice(0, 40) + "..." : v.value)}`;
  return `${v.type} ${String(v.value)}`;
}

function parse(fn: string, bytes: Uint8Array, name: string): GGUFFile {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fn}: bytes must be a Uint8Array, received ${describe(bytes)}`);
  if (typeof name !== "string") throw new TypeError(`${fn}: name must be a string, received ${describe(name)}`);
  const label = `${fn}: ${quote(name)}`;
  const fail: (message: string) => never = (message) => {
    throw new GGUFFormatError(`${label}: ${message}`);
  };
  const c = new Cursor(bytes, fail);

  // Header.
  if (bytes.length >= 4 && c.view.getUint32(0, true) !== MAGIC) {
    const head = [...bytes.subarray(0, 4)];
    fail(`bad magic: the file starts with bytes ${head.map((b) => b.toString(16).padStart(2, "0")).join(" ")}, expected 47 47 55 46 ("GGUF"); is this a GGUF file?`);
  }
  if (bytes.length < 24) fail(`the file is ${bytes.length} bytes long, shorter than the 24-byte GGUF header (magic, version, tensor count, key-value count)`);
  c.pos = 4;
  const version = c.u32("the version");
  if (version !== 3 && version !== 2) {
    if (version === 1) fail(`GGUF version 1 is not supported (it has 32-bit counts and lengths); expected version 3 (or 2)`);
    if (version !== 0 && (version & 0xffff) === 0) fail(`version ${version} (0x${version.toString(16)}) looks like a big-endian GGUF file, which is not supported; expected version 3 (or 2), little-endian`);
    fail(`unsupported GGUF version ${version}, expected 3 (or 2)`);
  }
  const tensorCount = c.count("the tensor count", "tensor infos", MIN_INFO_BYTES);
  const kvCount = c.count("the key-value count", "key-value pairs", MIN_KV_BYTES);
  if (BigInt(tensorCount) * BigInt(MIN_INFO_BYTES) + BigInt(kvCount) * BigInt(MIN_KV_BYTES) > BigInt(c.left)) {
    fail(`the header lists ${tensorCount} tensors and ${kvCount} key-value pairs, which need at least ${tensorCount * MIN_INFO_BYTES + kvCount * MIN_KV_BYTES} bytes, but only ${c.left} bytes follow`);
  }

  // Metadata.
  const metadata = new Map<string, GGUFValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string(`the key of key-value pair ${i}`);
    const what = `key ${quote(key)}`;
    if (metadata.has(key)) fail(`${what} appears twice (key-value pairs ${[...metadata.keys()].indexOf(key)} and ${i})`);
    const type = valueType(c, what);
    metadata.set(key, readValue(c, type, what, 0));
  }
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const alignValue = metadata.get("general.alignment");
  if (alignValue !== undefined) {
    if (alignValue.type !== "u32" || !isPowerOfTwo(alignValue.value)) {
      fail(`key 'general.alignment' is ${describeValue(alignValue)}, expected a u32 power of two (default ${GGUF_DEFAULT_ALIGNMENT})`);
    }
    alignment = alignValue.value;
  }

  // Tensor infos.
  if (BigInt(tensorCount) * BigInt(MIN_INFO_BYTES) > BigInt(c.left)) {
    fail(`the header lists ${tensorCount} tensors, whose infos need at least ${tensorCount * MIN_INFO_BYTES} bytes, but only ${c.left} bytes follow the metadata`);
  }
  const names = new Set<string>();
  const infos: { name: string; info: GGMLTypeInfo; ne: number[]; offset: number; byteLength: number }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const tensorName = c.string(`the name of tensor info ${i}`);
    const what = `tensor ${quote(tensorName)}`;
    if (names.has(tensorName)) fail(`${what} appears twice (tensor infos ${infos.findIndex((t) => t.name === tensorName)} and ${i})`);
    names.add(tensorName);
    const nDims = c.u32(`the n_dims of ${what}`);
    if (nDims < 1 || nDims > 4) fail(`${what} has n_dims ${nDims}, expected 1 to 4`);
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) ne.push(c.safeU64(`ne[${d}] of ${what}`));
    const typeAt = c.pos;
    const typeId = c.u32(`the type of ${what}`);
    const info = ggmlTypeInfo(typeId);
    if (info === undefined) fail(`${what} has the unknown ggml type ${typeId} (at byte ${typeAt})`);
    const byteLength = tensorBytesOrProblem(info, ne);
    if (typeof byteLength === "string") fail(`${what} is ${info.name} with ne [${ne.join(", ")}]: ${byteLength}`);
    const offset = c.safeU64(`the data offset of ${what}`);
    if (offset % alignment !== 0) fail(`${what} has data offset ${offset}, not a multiple of the alignment ${alignment}`);
    infos.push({ name: tensorName, info, ne, offset, byteLength });
  }

  // Data section.
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  if (tensorCount > 0 && dataOffset > bytes.length) {
    fail(`the file ends at byte ${bytes.length}, before the data section, which starts at byte ${dataOffset} (alignment ${alignment})`);
  }
  const dataBytes = Math.max(0, bytes.length - dataOffset);
  for (const t of infos) {
    if (t.offset > dataBytes || t.byteLength > dataBytes - t.offset) {
      fail(
        `tensor ${quote(t.name)} (${t.info.name} [${[...t.ne].reverse().join(", ")}]) needs bytes [${t.offset}, ${t.offset + t.byteLength}) of the data section, ` +
          `which holds only ${dataBytes} bytes (is the file truncated?)`,
      );
    }
  }
  const byStart = infos.filter((t) => t.byteLength > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byStart.length; i++) {
    const a = byStart[i - 1];
    const b = byStart[i];
    if (b.offset < a.offset + a.byteLength) {
      fail(`tensors ${quote(a.name)} (bytes [${a.offset}, ${a.offset + a.byteLength})) and ${quote(b.name)} (bytes [${b.offset}, ${b.offset + b.byteLength})) of the data section overlap`);
    }
  }
  const tensors: GGUFTensorInfo[] = infos.map((t) => {
    const start = dataOffset + t.offset;
    return Object.freeze({
      name: t.name,
      type: t.info.id,
      typeName: t.info.name,
      shape: Object.freeze([...t.ne].reverse()),
      ne: Object.freeze(t.ne),
      offset: t.offset,
      byteLength: t.byteLength,
      data: bytes.subarray(start, start + t.byteLength),
    });
  });
  return { name, version, alignment, metadata, tensors: Object.freeze(tensors), dataOffset };
}

/**
 * Parses GGUF bytes (version 3, or 2) without copying tensor data: each tensor's `data` is a view
 * of `bytes`, so keep them alive and unchanged while the views are used.
 *
 * Checked before use: the magic, the version (1 and big-endian files are refused), every count
 * against the bytes left (before any allocation), string lengths and UTF-8, value types, bools
 * (0 or 1), array nesting (at most 8 deep), duplicate keys and tensor names,
 * `general.alignment` (a u32 power of two), n_dims (1 to 4), dimensions and offsets (below
 * 2^53), known ggml types, block sizes (ne[0] a multiple of the type's block), offsets that are
 * multiples of the alignment, data inside the file, and no two tensors overlapping.
 *
 * @param name Names the source in messages (default "<buffer>").
 * @throws TypeError unless bytes is a Uint8Array; {@link GGUFFormatError} naming the source, the
 *   key or tensor, the problem and the expected value.
 */
export function parseGGUF(bytes: Uint8Array, name = "<buffer>"): GGUFFile {
  return parse("parseGGUF", bytes, name);
}

/**
 * Reads and parses a GGUF file (see {@link parseGGUF}). The tensors' `data` are views of one
 * buffer holding the whole file: memory-mapped from 64 MiB (see readFileBytes; `opts.map`
 * forces either way), released with releaseFileBytes(file.bytes).
 *
 * @throws TypeError for a bad path; Error naming the file when it cannot be read;
 *   {@link GGUFFormatError} naming the file for anything that breaks the format.
 */
export function readGGUF(filePath: string, opts: { map?: boolean } = {}): GGUFFile & { bytes: Uint8Array } {
  const fn = "readGGUF";
  const bytes = readFileBytes(filePath, fn, opts);
  try {
    return Object.assign(parse(fn, bytes, filePath), { bytes });
  } catch (e) {
    releaseFileBytes(bytes);
    throw e;
  }
}

/**
 * The tensor named `name`.
 *
 * @throws GGUFFormatError naming the file and the tensor when the file does not hold it.
 */
export function ggufTensor(file: GGUFFile, name: string): GGUFTensorInfo {
  const t = file.tensors.find((x) => x.name === name);
  if (t === undefined) throw new GGUFFormatError(`ggufTensor: ${quote(file.name)}: the file has no tensor ${quote(name)} (it holds ${file.tensors.length} tensors)`);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Typed metadata access

type MetadataSource = GGUFFile | ReadonlyMap<string, GGUFValue>;

function lookup(fn: string, source: MetadataSource, key: string): { value: GGUFValue | undefined; label: string } {
  if (source instanceof Map) return { value: source.get(key), label: `${fn}: key ${quote(key)}` };
  const file = source as GGUFFile;
  if (file === null || typeof file !== "object" || !(file.metadata instanceof Map)) {
    throw new TypeError(`${fn}: expected a GGUFFile or its metadata Map, received ${describe(source)}`);
  }
  return { value: file.metadata.get(key), label: `${fn}: ${quote(file.name)}: key ${quote(key)}` };
}

function getValue(fn: string, source: MetadataSource, key: string, expected: string): { value: GGUFValue; label: string } {
  const { value, label } = lookup(fn, source, key);
  if (value === undefined) throw new GGUFFormatError(`${label} is missing (expected ${expected})`);
  return { value, label };
}

/**
 * The string value of `key`.
 *
 * @throws GGUFFormatError naming the key (and the file) when it is missing or not a string.
 */
export function ggufString(source: MetadataSource, key: string): string {
  const { value, label } = getValue("ggufString", source, key, "a string");
  if (value.type !== "string") throw new GGUFFormatError(`${label} is ${describeValue(value)}, expected a string`);
  return value.value;
}

/**
 * The numeric value of `key`, whatever its number type (u64 and i64 only when they fit a safe
 * integer).
 *
 * @throws GGUFFormatError naming the key (and the file) when it is missing, not a number, or a
 *   64-bit integer beyond 2^53 - 1.
 */
export function ggufNumber(source: MetadataSource, key: string): number {
  const { value, label } = getValue("ggufNumber", source, key, "a number");
  if (value.type === "u64" || value.type === "i64") {
    const n = Number(value.value);
    if (!Number.isSafeInteger(n)) throw new GGUFFormatError(`${label} is ${value.type} ${value.value}, beyond the integers a number holds exactly (2^53 - 1)`);
    return n;
  }
  if (value.type === "bool" || value.type === "string" || value.type === "array") throw new GGUFFormatError(`${label} is ${describeValue(value)}, expected a number`);
  return value.value as number;
}

/**
 * The boolean value of `key`.
 *
 * @throws GGUFFormatError naming the key (and the file) when it is missing or not a bool.
 */
export function ggufBool(source: MetadataSource, key: string): boolean {
  const { value, label } = getValue("ggufBool", source, key, "a bool");
  if (value.type !== "bool") throw new GGUFFormatError(`${label} is ${describeValue(value)}, expected a bool`);
  return value.value;
}

/**
 * The array value of `key`; with `elementType`, its elements, which must be of that type.
 *
 * @throws GGUFFormatError naming the key (and the file) when it is missing, not an array, or an
 *   array of another element type.
 */
export function ggufArray(source: MetadataSource, key: string): GGUFArray;
export function ggufArray<E extends GGUFValueType>(source: MetadataSource, key: string, elementType: E): GGUFArrayElements[E];
export function ggufArray(source: MetadataSource, key: string, elementType?: GGUFValueType): GGUFArray | GGUFArrayElements[GGUFValueType] {
  const expected = elementType === undefined ? "an array" : `an array of ${elementType}`;
  const { value, label } = getValue("ggufArray", source, key, expected);
  if (value.type !== "array" || (elementType !== undefined && value.elementType !== elementType)) {
    throw new GGUFFormatError(`${label} is ${describeValue(value)}, expected ${expected}`);
  }
  return elementType === undefined ? value : value.value;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Bytes written into a growing buffer. */
class ByteWriter {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): number {
    if (this.length + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.length + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  // Each write reserves first: reserve() may replace buf and view, so they are read after it.
  u8(v: number): void {
    const at = this.reserve(1);
    this.buf[at] = v;
  }
  i8(v: number): void {
    const at = this.reserve(1);
    this.view.setInt8(at, v);
  }
  u16(v: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, v, true);
  }
  i16(v: number): void {
    const at = this.reserve(2);
    this.view.setInt16(at, v, true);
  }
  u32(v: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, v, true);
  }
  i32(v: number): void {
    const at = this.reserve(4);
    this.view.setInt32(at, v, true);
  }
  f32(v: number): void {
    const at = this.reserve(4);
    this.view.setFloat32(at, v, true);
  }
  f64(v: number): void {
    const at = this.reserve(8);
    this.view.setFloat64(at, v, true);
  }
  u64(v: bigint): void {
    const at = this.reserve(8);
    this.view.setBigUint64(at, v, true);
  }
  i64(v: bigint): void {
    const at = this.reserve(8);
    this.view.setBigInt64(at, v, true);
  }
  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
  }
  zeros(n: number): void {
    const at = this.reserve(n);
    this.buf.fill(0, at, at + n);
  }
  string(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.u64(BigInt(b.length));
    this.bytes(b);
  }
  result(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

const INT_RANGES: Partial<Record<GGUFValueType, [number, number]>> = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
};
const BIG_RANGES: Partial<Record<GGUFValueType, [bigint, bigint]>> = { u64: [0n, TWO_64 - 1n], i64: [-(1n << 63n), (1n << 63n) - 1n] };
const ARRAY_CLASSES: Partial<Record<GGUFValueType, { new (n: number): ArrayBufferView; name: string }>> = {
  u8: Uint8Array,
  i8: Int8Array,
  u16: Uint16Array,
  i16: Int16Array,
  u32: Uint32Array,
  i32: Int32Array,
  f32: Float32Array,
  f64: Float64Array,
  u64: BigUint64Array,
  i64: BigInt64Array,
};

function checkString(fn: string, s: unknown, what: string): string {
  if (typeof s !== "string") throw new TypeError(`${fn}: ${what} must be a string, received ${describe(s)}`);
  if (LONE_SURROGATE.test(s)) throw new RangeError(`${fn}: ${what} holds a lone UTF-16 surrogate, which UTF-8 cannot encode`);
  return s;
}

function writeScalar(fn: string, w: ByteWriter, type: GGUFValueType, value: unknown, what: string): void {
  const ints = INT_RANGES[type];
  if (ints !== undefined) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < ints[0] || value > ints[1]) {
      throw new RangeError(`${fn}: ${what} must be an integer in [${ints[0]}, ${ints[1]}] for type ${type}, received ${describe(value)}`);
    }
  }
  const bigs = BIG_RANGES[type];
  if (bigs !== undefined && (typeof value !== "bigint" || value < bigs[0] || value > bigs[1])) {
    throw new RangeError(`${fn}: ${what} must be a bigint in [${bigs[0]}, ${bigs[1]}] for type ${type}, received ${describe(value)}`);
  }
  switch (type) {
    case "u8":
      return w.u8(value as number);
    case "i8":
      return w.i8(value as number);
    case "u16":
      return w.u16(value as number);
    case "i16":
      return w.i16(value as number);
    case "u32":
      return w.u32(value as number);
    case "i32":
      return w.i32(value as number);
    case "u64":
      return w.u64(value as bigint);
    case "i64":
      return w.i64(value as bigint);
    case "f32":
    case "f64":
      if (typeof value !== "number") throw new TypeError(`${fn}: ${what} must be a number for type ${type}, received ${describe(value)}`);
      return type === "f32" ? w.f32(value) : w.f64(value);
    case "bool":
      if (typeof value !== "boolean") throw new TypeError(`${fn}: ${what} must be a boolean for type bool, received ${describe(value)}`);
      return w.u8(value ? 1 : 0);
    case "string":
      return w.string(checkString(fn, value, what));
    default:
      throw new TypeError(`${fn}: ${what}: type ${type} is not a scalar type`);
  }
}

function checkValueType(fn: string, type: unknown, what: string): GGUFValueType {
  if (typeof type !== "string" || !TYPE_ID.has(type as GGUFValueType)) {
    throw new TypeError(`${fn}: ${what} must be one of ${VALUE_TYPES.join(", ")}, received ${describe(type)}`);
  }
  return type as GGUFValueType;
}

function writeArray(fn: string, w: ByteWriter, arr: unknown, what: string, depth: number): void {
  if (depth > GGUF_MAX_ARRAY_DEPTH) throw new RangeError(`${fn}: ${what} nests arrays more than ${GGUF_MAX_ARRAY_DEPTH} deep`);
  if (arr === null || typeof arr !== "object") throw new TypeError(`${fn}: ${what} must be a GGUF array value, received ${describe(arr)}`);
  const { elementType: et, value } = arr as { elementType: unknown; value: unknown };
  const elementType = checkValueType(fn, et, `the elementType of ${what}`);
  const cls = ARRAY_CLASSES[elementType];
  if (cls !== undefined) {
    if (!(value instanceof cls)) throw new TypeError(`${fn}: ${what} has elementType ${elementType}, so its value must be ${/^[AEIO]/.test(cls.name) ? "an" : "a"} ${cls.name}, received ${describe(value)}`);
  } else if (!Array.isArray(value)) {
    throw new TypeError(`${fn}: ${what} has elementType ${elementType}, so its value must be an array, received ${describe(value)}`);
  }
  const items = value as ArrayLike<unknown>;
  w.u32(TYPE_ID.get(elementType)!);
  w.u64(BigInt(items.length));
  if (elementType === "array") {
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as { type?: unknown };
      if (item === null || typeof item !== "object" || item.type !== "array") throw new TypeError(`${fn}: element ${i} of ${what} must be an array value, received ${describe(item)}`);
      writeArray(fn, w, item, `element ${i} of ${what}`, depth + 1);
    }
    return;
  }
  for (let i = 0; i < items.length; i++) writeScalar(fn, w, elementType, items[i], `element ${i} of ${what}`);
}

function writeValue(fn: string, w: ByteWriter, v: unknown, what: string): void {
  if (v === null || typeof v !== "object") throw new TypeError(`${fn}: ${what} must be a typed value like { type: "u32", value: 1 }, received ${describe(v)}`);
  const type = checkValueType(fn, (v as { type: unknown }).type, `the type of ${what}`);
  w.u32(TYPE_ID.get(type)!);
  if (type === "array") writeArray(fn, w, v, what, 1);
  else writeScalar(fn, w, type, (v as { value: unknown }).value, what);
}

function metadataEntries(fn: string, metadata: unknown): [string, GGUFValue][] {
  if (metadata === undefined) return [];
  if (metadata instanceof Map) return [...metadata] as [string, GGUFValue][];
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new TypeError(`${fn}: metadata must be a Map or an object of typed values, received ${describe(metadata)}`);
  }
  return Object.keys(metadata).map((k) => [k, (metadata as Record<string, GGUFValue>)[k]]);
}

/**
 * Encodes a GGUF version 3 file as a list of chunks whose concatenation is the file: one chunk
 * with the header, metadata, tensor infos and padding, then each tensor's data (the caller's
 * bytes, not copies; data given as a function is made here) and its padding. Tensors are laid
 * out in order, each at the next multiple of the alignment.
 *
 * @throws TypeError / RangeError naming the key or tensor for a malformed value (wrong type,
 *   out of range, lone surrogate, nesting deeper than 8), a duplicate tensor name, a name over
 *   63 bytes, an unknown type, a shape that is not 1 to 4 dimensions or does not fit the type's
 *   blocks, data whose length differs from what type and shape need (also what a data function
 *   returns), or an alignment that is not a power of two or disagrees with `general.alignment`;
 *   whatever a data function throws.
 */
export function encodeGGUF(spec: GGUFWriteSpec): Uint8Array[] {
  return encode("encodeGGUF", spec);
}

/** A tensor's data as {@link encode} lays it out: given bytes or their maker, then `pad` zeros. */
interface DataPart {
  readonly name: string;
  readonly data: Uint8Array | (() => Uint8Array);
  readonly bytes: number;
  readonly pad: number;
}

/** The bytes of a part, made now when lazy and checked against the size its info announced. */
function partBytes(fn: string, part: DataPart): Uint8Array {
  if (part.data instanceof Uint8Array) return part.data;
  const made: unknown = part.data();
  if (!(made instanceof Uint8Array)) throw new TypeError(`${fn}: the data function of tensor ${quote(part.name)} must return a Uint8Array, returned ${describe(made)}`);
  if (made.length !== part.bytes) throw new RangeError(`${fn}: the data function of tensor ${quote(part.name)} returned ${made.length} bytes, expected ${part.bytes}`);
  return made;
}

function encode(fn: string, spec: GGUFWriteSpec): Uint8Array[] {
  const { header, parts, alignment } = layout(fn, spec);
  const chunks: Uint8Array[] = [header];
  const zeros = new Uint8Array(alignment);
  for (const part of parts) {
    const bytes = partBytes(fn, part);
    if (bytes.length > 0) chunks.push(bytes);
    if (part.pad > 0) chunks.push(zeros.subarray(0, part.pad));
  }
  return chunks;
}

/** The file as chunks made one tensor at a time (lazy data is made when reached). */
function* stream(fn: string, header: Uint8Array, parts: readonly DataPart[], alignment: number): Generator<Uint8Array> {
  const zeros = new Uint8Array(alignment);
  yield header;
  for (const part of parts) {
    const bytes = partBytes(fn, part);
    if (bytes.length > 0) yield bytes;
    if (part.pad > 0) yield zeros.subarray(0, part.pad);
  }
}

/** Checks the spec and encodes everything before the data section; the data stays as given. */
function layout(fn: string, spec: GGUFWriteSpec): { header: Uint8Array; parts: DataPart[]; alignment: number } {
  if (spec === null || typeof spec !== "object") throw new TypeError(`${fn}: spec must be an object { metadata, tensors, alignment }, received ${describe(spec)}`);
  const entries = metadataEntries(fn, spec.metadata);
  const tensors = spec.tensors ?? [];
  if (!Array.isArray(tensors)) throw new TypeError(`${fn}: tensors must be an array, received ${describe(tensors)}`);

  const keys = new Set<string>();
  for (const [key] of entries) {
    checkString(fn, key, "a metadata key");
    if (key.length === 0) throw new RangeError(`${fn}: a metadata key is empty`);
    if (keys.has(key)) throw new RangeError(`${fn}: metadata key ${quote(key)} appears twice`);
    keys.add(key);
  }
  const declared = entries.find(([k]) => k === "general.alignment")?.[1];
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  if (declared !== undefined) {
    if (declared === null || typeof declared !== "object" || declared.type !== "u32" || !isPowerOfTwo(declared.value)) {
      throw new RangeError(`${fn}: metadata 'general.alignment' must be a u32 power of two, received ${declared !== null && typeof declared === "object" ? describeValue(declared) : describe(declared)}`);
    }
    alignment = declared.value;
  }
  if (spec.alignment !== undefined) {
    if (typeof spec.alignment !== "number" || !isPowerOfTwo(spec.alignment)) throw new RangeError(`${fn}: alignment must be a power of two, received ${describe(spec.alignment)}`);
    if (declared !== undefined && spec.alignment !== alignment) {
      throw new RangeError(`${fn}: alignment ${spec.alignment} disagrees with the metadata's 'general.alignment' ${alignment}`);
    }
    if (declared === undefined && spec.alignment !== GGUF_DEFAULT_ALIGNMENT) entries.push(["general.alignment", { type: "u32", value: spec.alignment }]);
    alignment = spec.alignment;
  }

  const w = new ByteWriter();
  w.u32(MAGIC);
  w.u32(3);
  w.u64(BigInt(tensors.length));
  w.u64(BigInt(entries.length));
  for (const [key, value] of entries) {
    w.string(key);
    writeValue(fn, w, value, `metadata ${quote(key)}`);
  }

  const names = new Set<string>();
  const parts: DataPart[] = [];
  let offset = 0;
  tensors.forEach((t: GGUFTensorInput, i: number) => {
    if (t === null || typeof t !== "object") throw new TypeError(`${fn}: tensors[${i}] must be { name, type, shape, data }, received ${describe(t)}`);
    const name = checkString(fn, t.name, `tensors[${i}].name`);
    const what = `tensor ${quote(name)}`;
    if (names.has(name)) throw new RangeError(`${fn}: ${what} appears twice`);
    names.add(name);
    const nameBytes = Buffer.byteLength(name, "utf8");
    if (nameBytes > GGUF_MAX_TENSOR_NAME_BYTES) throw new RangeError(`${fn}: ${what} has a ${nameBytes}-byte name; ggml takes at most ${GGUF_MAX_TENSOR_NAME_BYTES}`);
    const info = ggmlTypeInfo(t.type);
    if (info === undefined) throw new RangeError(`${fn}: ${what} has unknown ggml type ${describe(t.type)}`);
    const shape = t.shape;
    if (!Array.isArray(shape) || shape.length < 1 || shape.length > 4) throw new RangeError(`${fn}: ${what} must have a shape of 1 to 4 dimensions, received ${describe(shape)}`);
    shape.forEach((d, j) => {
      if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) throw new RangeError(`${fn}: ${what} has shape[${j}] = ${describe(d)}, expected a non-negative integer`);
    });
    const ne = [...shape].reverse();
    const bytes = tensorBytesOrProblem(info, ne);
    if (typeof bytes === "string") throw new RangeError(`${fn}: ${what} is ${info.name} [${shape.join(", ")}]: ${bytes}`);
    if (!(t.data instanceof Uint8Array) && typeof t.data !== "function") throw new TypeError(`${fn}: ${what} data must be a Uint8Array or a function returning one, received ${describe(t.data)}`);
    if (t.data instanceof Uint8Array && t.data.length !== bytes) throw new RangeError(`${fn}: ${what} is ${info.name} [${shape.join(", ")}], which takes ${bytes} bytes, but its data has ${t.data.length}`);
    w.string(name);
    w.u32(ne.length);
    for (const d of ne) w.u64(BigInt(d));
    w.u32(info.id);
    w.u64(BigInt(offset));
    const pad = (alignment - (bytes % alignment)) % alignment;
    parts.push({ name, data: t.data, bytes, pad });
    offset += bytes + pad;
  });
  w.zeros((alignment - (w.length % alignment)) % alignment);
  return { header: w.result(), parts, alignment };
}

/**
 * Writes a GGUF version 3 file atomically (see {@link writeFileAtomic} and {@link encodeGGUF}
 * for the layout). Tensor data is written straight from the given arrays; data given as a
 * function is made when the writer reaches it, one tensor at a time, so only one made tensor is
 * held at once. Everything but lazy data is checked before the file is created.
 *
 * @throws as {@link encodeGGUF} (a data function's error after the temporary file is removed);
 *   Error naming the file when the write fails.
 */
export function writeGGUF(filePath: string, spec: GGUFWriteSpec): void {
  const fn = "writeGGUF";
  if (typeof filePath !== "string" || filePath.length === 0) throw new TypeError(`${fn}: path must be a non-empty string, received ${describe(filePath)}`);
  const { header, parts, alignment } = layout(fn, spec);
  writeFileAtomic(fn, filePath, stream(fn, header, parts, alignment));
}
