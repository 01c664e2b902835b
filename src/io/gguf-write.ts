// Writing GGUF lays tensors out in the given order, each at the next multiple of the alignment
// (as llama.cpp's writer does), and streams the data through writeFileAtomic without
// concatenating it; a tensor's data may be a function that makes it when the writer reaches it,
// so a converter holds one converted tensor at a time, not the whole file.
import { describe } from "../tensor/dtype";
import { writeFileAtomic } from "./atomic";
import { ggmlTypeInfo, tensorBytesOrProblem } from "./ggml-types";
import { MAGIC, VALUE_TYPES, TYPE_ID, TWO_64, LONE_SURROGATE, quote, isPowerOfTwo, GGUFValueType, GGUFValue, GGUFTensorInput, GGUFWriteSpec, GGUF_DEFAULT_ALIGNMENT, GGUF_MAX_ARRAY_DEPTH, GGUF_MAX_TENSOR_NAME_BYTES, describeValue } from "./gguf-format";

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
