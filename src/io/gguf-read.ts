// Reading GGUF trusts nothing the file says. Every count, length and offset is compared with the
// bytes that are left before anything is allocated or read (a count of 2^63 is an error, not an
// allocation attempt), strings must be UTF-8, arrays nest at most 8 deep, and every tensor's
// shape, type, size, alignment and byte range is checked (inside the file, no overlaps) before
// its data is handed out as a view of the file's bytes: parsing copies no tensor data.
import { describe } from "../tensor/dtype";
import { readFileBytes, releaseFileBytes } from "./file-bytes";
import { GGMLTypeInfo, GGUFFormatError, ggmlTypeInfo, tensorBytesOrProblem } from "./ggml-types";
import { MAGIC, VALUE_TYPES, MIN_BYTES, MIN_KV_BYTES, MIN_INFO_BYTES, utf8, quote, isPowerOfTwo, GGUFValueType, GGUFArrayElements, GGUFArray, GGUFValue, GGUFTensorInfo, GGUFFile, GGUF_DEFAULT_ALIGNMENT, GGUF_MAX_ARRAY_DEPTH, describeValue } from "./gguf-format";

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
