// Hugging Face safetensors files: an 8-byte little-endian header size N, N bytes of UTF-8 JSON
// describing every tensor (dtype, shape, [begin, end) byte range of the data buffer) plus an
// optional "__metadata__" map of strings, then the data buffer.
//
// Reading trusts nothing the file says: the whole header is validated (sizes, types, every
// byte range against the data buffer, no overlaps, no uncovered bytes, no duplicate keys)
// before a single byte of tensor data is read, and the data is read straight into native
// tensor memory, so no copy of the file stays in memory. Writing lays the data out the way the
// reference writer (huggingface/safetensors) does: dtypes by descending alignment, names in
// byte order within a dtype, the header padded with spaces to a multiple of 8 bytes, so every
// tensor starts at a multiple of its element size when the file is memory-mapped.
//
// Tensor data is written and read as raw bytes, which is little-endian only on little-endian
// hosts: big-endian hosts are refused.
import * as fs from "node:fs";
import * as os from "node:os";
import { DType, describe } from "../tensor/dtype";
import { MAX_DIMS, formatShape } from "../tensor/shape";
import { Tensor } from "../tensor/tensor";
import { fsReason, writeFileAtomic } from "./atomic";
import { FormatError } from "../errors";

/** A safetensors file (or header) that breaks the format; the message names the file and the problem. */
export class SafetensorsFormatError extends FormatError {
  override name = "SafetensorsFormatError";
  constructor(message: string, options?: ErrorOptions) {
    super("safetensors", message, options);
  }
}

/** Largest JSON header read or written, in bytes (the reference implementation's limit). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** One tensor's entry in a safetensors header. */
export interface SafetensorsTensorInfo {
  /** The element type as the file names it: "F32", "BF16", "I64", ... */
  readonly fileDType: string;
  /** The matching bitnet-lab dtype, or null when there is none (readSafetensors refuses those tensors). */
  readonly dtype: DType | null;
  /** Row-major shape, outermost dimension first ([] for a scalar). */
  readonly shape: readonly number[];
  /** [begin, end) byte range of the tensor's data, relative to the start of the data buffer. */
  readonly dataOffsets: readonly [number, number];
}

/** The parsed and validated header of a safetensors file. */
export interface SafetensorsHeader {
  /** The tensors by name, in the order of their data in the file. */
  readonly tensors: Map<string, SafetensorsTensorInfo>;
  /** The `__metadata__` strings ({} when the file has none). */
  readonly metadata: Record<string, string>;
  /** Bytes of the JSON header including its padding (the N of the leading 8-byte size). */
  readonly headerBytes: number;
  /** Byte position of the data buffer in the file: 8 + headerBytes. */
  readonly dataStart: number;
  /** Bytes of the data buffer (the rest of the file). */
  readonly dataBytes: number;
}

/** Options of {@link readSafetensors}. */
export interface ReadSafetensorsOptions {
  /**
   * Read only these tensors (the returned map follows this order; default: every tensor, in
   * file order). The whole header is still validated.
   */
  names?: readonly string[];
}

/** What {@link readSafetensors} returns. */
export interface SafetensorsContents {
  /** The tensors by name, each a contiguous tensor in its own native memory (dispose them). */
  tensors: Map<string, Tensor>;
  /** The `__metadata__` strings ({} when the file has none). */
  metadata: Record<string, string>;
}

// Bits per element of every dtype the format defines, and each dtype's rank in the reference
// writer's alignment order (its Dtype enum, smallest first), which orders the data of a file.
const FILE_DTYPES = new Map<string, { bits: number; rank: number }>(
  (
    [
      ["BOOL", 8],
      ["F4", 4],
      ["F6_E2M3", 6],
      ["F6_E3M2", 6],
      ["U8", 8],
      ["I8", 8],
      ["F8_E5M2", 8],
      ["F8_E4M3", 8],
      ["F8_E8M0", 8],
      ["I16", 16],
      ["U16", 16],
      ["F16", 16],
      ["BF16", 16],
      ["I32", 32],
      ["U32", 32],
      ["F32", 32],
      ["C64", 64],
      ["F64", 64],
      ["I64", 64],
      ["U64", 64],
    ] as const
  ).map(([name, bits], rank) => [name, { bits, rank }]),
);

const TO_FILE_DTYPE: Partial<Record<DType, string>> = { f32: "F32", f16: "F16", bf16: "BF16", i8: "I8", i32: "I32", u8: "U8" };
const FROM_FILE_DTYPE = new Map<string, DType>(Object.entries(TO_FILE_DTYPE).map(([ours, theirs]) => [theirs as string, ours as DType]));
const SUPPORTED = "F32, F16, BF16, I8, I32, U8";

// fs.readSync/writeSync take at most 2^31 - 1 bytes a call.
const IO_PIECE = 1 << 30;

const METADATA_KEY = "__metadata__";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Compares strings by their UTF-8 bytes, the order Rust (the reference writer) sorts names in. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Sorts [name, value] pairs by the names' UTF-8 bytes, encoding each name once. */
function sortByUtf8<T>(pairs: [string, T][]): void {
  const keyed = pairs.map((pair) => ({ pair, bytes: Buffer.from(pair[0], "utf8") }));
  keyed.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  keyed.forEach(({ pair }, i) => (pairs[i] = pair));
}

function quote(name: string): string {
  return `'${name.length > 200 ? name.slice(0, 200) + "..." : name}'`;
}

/** A JSON value, for messages: its kind, and the value itself when it is short. */
function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) {
    // Only flat, short arrays are spelled out: stringifying a deeply nested one would recurse.
    if (value.length <= 16 && value.every((v) => v === null || typeof v !== "object")) {
      const text = JSON.stringify(value);
      if (text.length <= 60) return text;
    }
    return `an array of length ${value.length}`;
  }
  switch (typeof value) {
    case "string":
      return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "..." : value)}`;
    case "number":
      return `the number ${value}`;
    case "boolean":
      return String(value);
    default:
      return "an object";
  }
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** Sets a key without ever touching the prototype (a key may be "__proto__"). */
function defineKey(obj: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function checkPath(fn: string, p: unknown): string {
  if (typeof p !== "string" || p.length === 0) throw new TypeError(`${fn}: path must be a non-empty string, received ${describe(p)}`);
  return p;
}

function checkLittleEndian(fn: string): void {
  if (os.endianness() !== "LE") {
    throw new Error(`${fn}: big-endian hosts are not supported (safetensors data is little-endian and is copied as raw bytes)`);
  }
}

/**
 * JSON.parse keeps the last of duplicate keys silently, which would let two readers see two
 * different files; this finds the first duplicate in (already valid) JSON text. Iterative, so
 * deep nesting cannot overflow the stack.
 */
function findDuplicateKey(text: string): { key: string; path: string[] } | undefined {
  interface Frame {
    keys: Set<string> | null; // null for arrays
    expectKey: boolean;
    lastKey: string;
    parent: Frame | undefined;
    keyInParent: string; // "[]" inside an array
  }
  // Paths are rebuilt from parent links only for the message: a copy per frame would cost
  // memory quadratic in the nesting depth.
  const pathOf = (frame: Frame): string[] => {
    const path: string[] = [];
    for (let f: Frame | undefined = frame; f?.parent !== undefined; f = f.parent) path.push(f.keyInParent);
    return path.reverse();
  };
  let top: Frame | undefined;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        let backslashes = 0;
        while (text.charCodeAt(j - 1 - backslashes) === 0x5c /* \ */) backslashes++;
        if (backslashes % 2 === 0) break;
        j++;
      }
      if (top !== undefined && top.keys !== null && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return { key, path: pathOf(top) };
        top.keys.add(key);
        top.lastKey = key;
        top.expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const keyInParent = top === undefined ? "" : top.keys !== null ? top.lastKey : "[]";
      top = { keys: c === 0x7b ? new Set() : null, expectKey: true, lastKey: "", parent: top, keyInParent };
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      top = top?.parent;
    } else if (c === 0x2c /* , */) {
      if (top !== undefined) top.expectKey = true;
    }
    i++;
  }
  return undefined;
}

/** Validates one tensor entry; returns its info. */
function parseEntry(fail: (message: string) => never, name: string, entry: unknown): SafetensorsTensorInfo {
  const what = `tensor ${quote(name)}`;
  if (!isJsonObject(entry)) fail(`${what} must be an object with dtype, shape and data_offsets, found ${describeJson(entry)}`);
  for (const field of ["dtype", "shape", "data_offsets"]) {
    if (!hasOwn(entry, field)) fail(`${what} has no ${field}`);
  }
  const fileDType = entry.dtype;
  if (typeof fileDType !== "string") fail(`${what} has dtype ${describeJson(fileDType)}, expected a string such as "F32"`);
  const dtypeInfo = FILE_DTYPES.get(fileDType);
  if (dtypeInfo === undefined) {
    fail(`${what} has unknown dtype ${quote(fileDType)} (the format defines ${[...FILE_DTYPES.keys()].join(", ")}; bitnet-lab reads ${SUPPORTED})`);
  }
  const shape = entry.shape;
  if (!Array.isArray(shape)) fail(`${what} has shape ${describeJson(shape)}, expected an array of non-negative integers`);
  shape.forEach((d, i) => {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      fail(`${what} has shape ${describeJson(shape)}: entry ${i} is ${describeJson(d)}, expected a non-negative integer`);
    }
  });
  const dims = (shape as number[]).map((d) => d + 0); // + 0 turns -0 into 0
  const offsets = entry.data_offsets;
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => typeof o === "number" && Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    fail(`${what} has data_offsets ${describeJson(offsets)}, expected [begin, end] with integers 0 <= begin <= end`);
  }
  const begin = offsets[0] + 0;
  const end = offsets[1] + 0;
  // Any zero dimension makes the tensor empty (checked first: huge other dimensions could
  // overflow the product to Infinity, and Infinity * 0 is NaN).
  let bits = 0;
  if (!dims.includes(0)) {
    bits = dtypeInfo.bits;
    for (const d of dims) bits *= d;
  }
  const shapeText = `${fileDType} ${formatShape(dims)}`;
  if (bits > Number.MAX_SAFE_INTEGER) fail(`${what} has data_offsets [${begin}, ${end}] but ${shapeText} needs more than 2^50 bytes`);
  if (bits % 8 !== 0) fail(`${what} is ${shapeText}, ${bits} bits, which is not a whole number of bytes`);
  if (end - begin !== bits / 8) fail(`${what} has data_offsets [${begin}, ${end}] but ${shapeText} needs ${bits / 8} bytes`);
  return { fileDType, dtype: FROM_FILE_DTYPE.get(fileDType) ?? null, shape: Object.freeze(dims), dataOffsets: Object.freeze([begin, end] as [number, number]) };
}

/**
 * Parses and validates header bytes (the N bytes after the size) for a data buffer of
 * `dataBytes` bytes. `label` starts every message.
 */
function parseHeader(label: string, bytes: Uint8Array, dataBytes: number): { tensors: Map<string, SafetensorsTensorInfo>; metadata: Record<string, string> } {
  const fail: (message: string) => never = (message) => {
    throw new SafetensorsFormatError(`${label}: ${message}`);
  };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (e) {
    throw new SafetensorsFormatError(`${label}: the header is not valid UTF-8`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsFormatError(`${label}: the header is not valid JSON (${(e as Error)?.message ?? String(e)})`, { cause: e });
  }
  if (!isJsonObject(json)) fail(`the header must be a JSON object of tensors, found ${describeJson(json)}`);
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    const { key, path } = duplicate;
    if (path.length === 0) fail(`the header has two entries named ${quote(key)}`);
    if (path.length === 1 && path[0] === METADATA_KEY) fail(`${METADATA_KEY} has the key ${quote(key)} twice`);
    if (path.length === 1) fail(`tensor ${quote(path[0])} has the key ${quote(key)} twice`);
    fail(`the key ${quote(key)} appears twice in one object (under ${path.map(quote).join(" > ")})`);
  }

  const metadata: Record<string, string> = {};
  const entries: [string, SafetensorsTensorInfo][] = [];
  for (const name of Object.keys(json)) {
    const value = json[name];
    if (name === METADATA_KEY) {
      if (value === null) continue; // the reference writes no metadata as an absent key, and reads null as none
      if (!isJsonObject(value)) fail(`${METADATA_KEY} must be an object of strings, found ${describeJson(value)}`);
      for (const key of Object.keys(value)) {
        const v = value[key];
        if (typeof v !== "string") fail(`${METADATA_KEY}[${quote(key)}] must be a string, found ${describeJson(v)}`);
        defineKey(metadata, key, v);
      }
      continue;
    }
    const info = parseEntry(fail, name, value);
    const [begin, end] = info.dataOffsets;
    if (end > dataBytes) {
      fail(`tensor ${quote(name)} has data_offsets [${begin}, ${end}] but the data buffer holds only ${dataBytes} bytes (is the file truncated?)`);
    }
    entries.push([name, info]);
  }

  // The format requires the byte ranges to tile the data buffer exactly.
  entries.sort(([na, a], [nb, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1] || compareUtf8(na, nb));
  let position = 0;
  let previous: [string, SafetensorsTensorInfo] | undefined;
  for (const entry of entries) {
    const [name, info] = entry;
    const [begin, end] = info.dataOffsets;
    if (begin < position) {
      const [pName, pInfo] = previous!;
      fail(`tensors ${quote(pName)} (data_offsets [${pInfo.dataOffsets.join(", ")}]) and ${quote(name)} (data_offsets [${begin}, ${end}]) overlap`);
    }
    if (begin > position) {
      const where = previous === undefined ? `before ${quote(name)}` : `between ${quote(previous[0])} and ${quote(name)}`;
      fail(`bytes [${position}, ${begin}) of the data buffer belong to no tensor (${where}); the tensors must cover the buffer without gaps`);
    }
    position = end;
    previous = entry;
  }
  if (position < dataBytes) {
    const where = previous === undefined ? "the header lists no tensors" : `after ${quote(previous[0])}, the last tensor`;
    fail(`bytes [${position}, ${dataBytes}) of the data buffer belong to no tensor (${where}); the tensors must cover the buffer without gaps`);
  }
  return { tensors: new Map(entries), metadata };
}

/** Reads up to `target.length` bytes at `position`; fewer only at the end of the file. */
function readAt(fn: string, filePath: string, fd: number, target: Uint8Array, position: number): number {
  let done = 0;
  try {
    while (done < target.length) {
      const got = fs.readSync(fd, target, done, Math.min(target.length - done, IO_PIECE), position + done);
      if (got === 0) break;
      done += got;
    }
  } catch (e) {
    throw new Error(`${fn}: cannot read '${filePath}': ${fsReason(e)}`, { cause: e });
  }
  return done;
}

/** Opens a regular file for reading, runs `body(fd, size)`, and closes it. */
function withFile<T>(fn: string, filePath: string, body: (fd: number, size: number) => T): T {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    fd = fs.openSync(filePath, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new Error(`${fn}: cannot read '${filePath}': ${fsReason(e)}`, { cause: e });
  }
  try {
    let stat: fs.Stats;
    try {
      stat = fs.fstatSync(fd);
    } catch (e) {
      throw new Error(`${fn}: cannot read '${filePath}': ${fsReason(e)}`, { cause: e });
    }
    if (stat.isDirectory()) throw new Error(`${fn}: cannot read '${filePath}': ${fsReason({ code: "EISDIR" })}`);
    if (!stat.isFile()) throw new Error(`${fn}: cannot read '${filePath}': it is not a regular file`);
    return body(fd, stat.size);
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // nothing was written; the result (or the error being thrown) stands
    }
  }
}

/** Reads and validates the size and the header of an open file. */
function readHeader(fn: string, filePath: string, fd: number, fileSize: number): SafetensorsHeader {
  return headerOf(`${fn}: '${filePath}'`, fileSize, (position, length) => {
    const target = Buffer.alloc(length);
    return target.subarray(0, readAt(fn, filePath, fd, target, position));
  });
}

/**
 * Validates the size and the header of a file of `fileSize` bytes. `read(position, length)`
 * returns the bytes there (fewer only where the file ends); it is asked for at most the 8-byte
 * size and then the header, once its size has been checked against the limit and the file.
 */
function headerOf(label: string, fileSize: number, read: (position: number, length: number) => Uint8Array): SafetensorsHeader {
  const fail: (message: string) => never = (message) => {
    throw new SafetensorsFormatError(`${label}: ${message}`);
  };
  const ended: (at: number) => never = (at) =>
    fail(`the file ended at byte ${at}, before the end of its header (was it truncated while being read?)`);
  if (fileSize < 8) fail(`the file is ${fileSize} bytes long, too short for the 8-byte header size a safetensors file starts with`);
  const sizeBytes = read(0, 8);
  if (sizeBytes.length < 8) ended(sizeBytes.length);
  const declared = new DataView(sizeBytes.buffer, sizeBytes.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    fail(`the header size is ${declared} bytes, more than the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit (is this a safetensors file?)`);
  }
  const headerBytes = Number(declared);
  if (8 + headerBytes > fileSize) {
    fail(`the header size is ${headerBytes} bytes but only ${fileSize - 8} bytes follow the 8-byte size (the file is truncated or not a safetensors file)`);
  }
  const header = read(8, headerBytes);
  if (header.length < headerBytes) ended(8 + header.length);
  const dataStart = 8 + headerBytes;
  const dataBytes = fileSize - dataStart;
  const { tensors, metadata } = parseHeader(label, header, dataBytes);
  return { tensors, metadata, headerBytes, dataStart, dataBytes };
}

/** What {@link parseSafetensors} returns. */
export interface SafetensorsBytes {
  /** The validated header (see {@link readSafetensorsHeader}). */
  readonly header: SafetensorsHeader;
  /** Each tensor's data as a view of the parsed bytes (no copy), in the order of the header's tensors. */
  readonly data: Map<string, Uint8Array>;
}

/**
 * Parses a whole safetensors file held in memory, with the same checks as
 * {@link readSafetensors}, without copying: each tensor's data is a view of `bytes` (keep them
 * alive and unchanged while the views are used). Tensors of any dtype the format defines are
 * returned (as bytes).
 *
 * @param name Names the source in messages (default "<buffer>").
 * @throws TypeError unless bytes is a Uint8Array; {@link SafetensorsFormatError} naming the
 *   source, the tensor and the problem for anything that breaks the format.
 */
export function parseSafetensors(bytes: Uint8Array, name = "<buffer>"): SafetensorsBytes {
  const fn = "parseSafetensors";
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fn}: bytes must be a Uint8Array, received ${describe(bytes)}`);
  if (typeof name !== "string") throw new TypeError(`${fn}: name must be a string, received ${describe(name)}`);
  const header = headerOf(`${fn}: '${name}'`, bytes.length, (position, length) => bytes.subarray(position, position + length));
  const data = new Map<string, Uint8Array>();
  for (const [tensor, info] of header.tensors) {
    const [begin, end] = info.dataOffsets;
    data.set(tensor, bytes.subarray(header.dataStart + begin, header.dataStart + end));
  }
  return { header, data };
}

/**
 * Reads and validates the header of a safetensors file (names, dtypes, shapes, byte ranges,
 * metadata) without reading any tensor data: only the first 8 + N bytes are read, so this is
 * the way to inspect multi-gigabyte model files. Tensors whose dtype bitnet-lab has no
 * equivalent for (I64, F64, ...) are listed with `dtype: null`.
 *
 * @throws TypeError for a non-string path; Error naming the file when it is missing, a
 *   directory, or unreadable; {@link SafetensorsFormatError} naming the file, the tensor and the
 *   problem for anything that breaks the format (see {@link readSafetensors}).
 */
export function readSafetensorsHeader(filePath: string): SafetensorsHeader {
  const fn = "readSafetensorsHeader";
  const p = checkPath(fn, filePath);
  return withFile(fn, p, (fd, size) => readHeader(fn, p, fd, size));
}

function checkReadOptions(opts: unknown, fn: string): string[] | undefined {
  if (opts === undefined) return undefined;
  if (!isJsonObject(opts)) throw new TypeError(`${fn}: options must be an object, received ${describe(opts)}`);
  const names = opts.names;
  if (names === undefined) return undefined;
  if (!Array.isArray(names)) throw new TypeError(`${fn}: names must be an array of strings, received ${describe(names)}`);
  names.forEach((name, i) => {
    if (typeof name !== "string") throw new TypeError(`${fn}: names[${i}] must be a string, received ${describe(name)}`);
  });
  return [...new Set(names as string[])];
}

/**
 * Reads a safetensors file into tensors. The whole header is validated before any data is
 * read: a file shorter than 8 bytes, a header size above 100 MB or past the end of the file,
 * a header that is not UTF-8 JSON or not an object, duplicate keys (at any level), an entry that
 * is not an object, an unknown dtype, a shape that is not an array of non-negative integers,
 * data_offsets that are not [begin, end] inside the data buffer or whose length disagrees with
 * dtype and shape, overlapping ranges, bytes of the buffer that belong to no tensor, and
 * `__metadata__` values that are not strings are all {@link SafetensorsFormatError}s. Keys of an
 * entry other than dtype, shape and data_offsets are ignored (as the reference reader does).
 *
 * Each tensor is read straight into its own native memory (f32 from F32, f16 from F16, bf16
 * from BF16, i8 from I8, i32 from I32, u8 from U8); nothing of the file is kept. The caller owns
 * the tensors and disposes them. Little-endian hosts only.
 *
 * @param filePath The file to read.
 * @param opts `names`: read only these tensors (in this order); default every tensor, in the
 *   order of their data in the file.
 * @returns The tensors by name and the `__metadata__` strings ({} when absent).
 * @throws TypeError for wrong argument kinds; RangeError for a name the file does not hold;
 *   Error naming the file when it is missing or unreadable; {@link SafetensorsFormatError}
 *   naming the file, the tensor and the problem for a malformed file, and for a selected tensor
 *   whose dtype bitnet-lab cannot hold (I64, F64, BOOL, ...: leave it out with `names`).
 */
export function readSafetensors(filePath: string, opts?: ReadSafetensorsOptions): SafetensorsContents {
  const fn = "readSafetensors";
  const p = checkPath(fn, filePath);
  const names = checkReadOptions(opts, fn);
  checkLittleEndian(fn);
  return withFile(fn, p, (fd, size) => {
    const header = readHeader(fn, p, fd, size);
    const label = `${fn}: '${p}'`;
    let selected: [string, SafetensorsTensorInfo][];
    if (names === undefined) {
      selected = [...header.tensors];
    } else {
      selected = names.map((name) => {
        const info = header.tensors.get(name);
        if (info === undefined) {
          const held = [...header.tensors.keys()];
          const list = held.length === 0 ? "it holds no tensors" : `it holds ${held.slice(0, 8).map(quote).join(", ")}${held.length > 8 ? `, ... (${held.length} in all)` : ""}`;
          throw new RangeError(`${label}: names lists ${quote(name)}, which the file does not hold (${list})`);
        }
        return [name, info];
      });
    }
    for (const [name, info] of selected) {
      if (info.dtype === null) {
        throw new SafetensorsFormatError(
          `${label}: tensor ${quote(name)} has dtype ${info.fileDType}, which bitnet-lab cannot hold (it reads ${SUPPORTED}); leave it out with the names option`,
        );
      }
      if (info.shape.length > MAX_DIMS) {
        throw new SafetensorsFormatError(`${label}: tensor ${quote(name)} has ${info.shape.length} dimensions, more than the ${MAX_DIMS} bitnet-lab tensors can have`);
      }
    }
    const tensors = new Map<string, Tensor>();
    try {
      for (const [name, info] of selected) {
        const tensor = Tensor.empty(info.shape, info.dtype!, false, fn);
        tensors.set(name, tensor);
        const [begin, end] = info.dataOffsets;
        if (end === begin) continue;
        const data = tensor.data();
        const target = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        const got = readAt(fn, p, fd, target, header.dataStart + begin);
        if (got < target.length) {
          throw new SafetensorsFormatError(`${label}: the file ended at byte ${header.dataStart + begin + got} while reading tensor ${quote(name)} (was it truncated while being read?)`);
        }
      }
    } catch (e) {
      for (const t of tensors.values()) t.dispose();
      throw e;
    }
    return { tensors, metadata: header.metadata };
  });
}

function collectTensors(tensors: unknown, fn: string): [string, Tensor][] {
  let entries: [unknown, unknown][];
  if (tensors instanceof Map) entries = [...tensors];
  else if (tensors instanceof Tensor) {
    throw new TypeError(`${fn}: tensors must be a Map or an object of named tensors, received a Tensor (name it: { weight: tensor })`);
  } else if (isJsonObject(tensors)) entries = Object.keys(tensors).map((k) => [k, tensors[k]]);
  else throw new TypeError(`${fn}: tensors must be a Map or an object of named tensors, received ${describe(tensors)}`);
  return entries.map(([name, tensor]) => {
    if (typeof name !== "string") throw new TypeError(`${fn}: tensor names must be strings, received ${describe(name)}`);
    const what = `tensors[${quote(name)}]`;
    if (name === METADATA_KEY) throw new RangeError(`${fn}: ${what}: the name '${METADATA_KEY}' is reserved for the file's metadata`);
    if (!(tensor instanceof Tensor)) throw new TypeError(`${fn}: ${what} must be a Tensor, received ${describe(tensor)}`);
    if (tensor.disposed) throw new TypeError(`${fn}: ${what} was disposed`);
    if (tensor.detached) throw new TypeError(`${fn}: ${what} wraps memory that was detached (transferred away)`);
    if (TO_FILE_DTYPE[(tensor as Tensor).dtype] === undefined) {
      throw new RangeError(
        `${fn}: ${what} has dtype '${tensor.dtype}', which safetensors cannot store (it takes f32, f16, bf16, i8, i32, u8); unpack it first, e.g. with to('i8')`,
      );
    }
    return [name, tensor];
  });
}

function checkMetadata(metadata: unknown, fn: string): [string, string][] {
  if (metadata === undefined) return [];
  if (!isJsonObject(metadata) || metadata instanceof Map) {
    throw new TypeError(`${fn}: metadata must be an object of strings, received ${describe(metadata)}`);
  }
  return Object.keys(metadata).map((key) => {
    const value = metadata[key];
    if (typeof value !== "string") throw new TypeError(`${fn}: metadata[${quote(key)}] must be a string, received ${describe(value)}`);
    return [key, value];
  });
}

/**
 * Writes tensors to a safetensors file, atomically (a temporary file renamed over `filePath`,
 * see {@link writeFileAtomic}): `filePath` holds either its old contents or the complete new
 * file. f32, f16, bf16, i8, i32 and u8 tensors are stored as F32, F16, BF16, I8, I32 and U8;
 * views (transposed, sliced) are written as contiguous row-major data.
 *
 * Layout, as the reference writer produces it: the data in descending dtype alignment (F32,
 * I32, BF16, F16, I8, U8), names in UTF-8 byte order within a dtype, the header's entries in that
 * same order after `__metadata__` (keys sorted), and the header padded with spaces to a multiple
 * of 8 bytes, so the data buffer starts 8-byte aligned and every tensor at a multiple of its
 * element size. The same tensors always give the same bytes.
 *
 * @param filePath Where the file goes.
 * @param tensors Tensors by name (a Map or a plain object); "__metadata__" is not a valid name.
 * @param metadata Strings stored as `__metadata__` (omitted when empty).
 * @throws TypeError for wrong argument kinds (a non-Tensor, a disposed tensor, a non-string
 *   metadata value); RangeError for a ternary2 tensor (unpack it first), the reserved name, or
 *   a header above 100 MB; Error naming the file when the write fails.
 */
export function writeSafetensors(filePath: string, tensors: Record<string, Tensor> | Map<string, Tensor>, metadata?: Record<string, string>): void {
  const fn = "writeSafetensors";
  const p = checkPath(fn, filePath);
  const entries = collectTensors(tensors, fn);
  const meta = checkMetadata(metadata, fn);
  checkLittleEndian(fn);
  sortByUtf8(entries);
  const rank = (t: Tensor): number => FILE_DTYPES.get(TO_FILE_DTYPE[t.dtype]!)!.rank;
  // Array.prototype.sort is stable: names stay in byte order within a dtype.
  entries.sort(([, a], [, b]) => rank(b) - rank(a));
  sortByUtf8(meta);

  const parts: string[] = [];
  if (meta.length > 0) parts.push(`${JSON.stringify(METADATA_KEY)}:{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`);
  let offset = 0;
  for (const [name, tensor] of entries) {
    const end = offset + tensor.nbytes;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${TO_FILE_DTYPE[tensor.dtype]}","shape":[${tensor.shape.join(",")}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = Buffer.from(`{${parts.join(",")}}`, "utf8");
  const headerBytes = json.length + ((8 - (json.length % 8)) % 8);
  if (headerBytes > SAFETENSORS_MAX_HEADER_BYTES) {
    throw new RangeError(`${fn}: the header would be ${headerBytes} bytes, more than the ${SAFETENSORS_MAX_HEADER_BYTES} bytes readers accept (${entries.length} tensors)`);
  }
  const header = Buffer.alloc(8 + headerBytes, 0x20);
  header.writeBigUInt64LE(BigInt(headerBytes), 0);
  json.copy(header, 8);

  // Contiguous views (copies only for non-contiguous tensors), cut from the tape: writing is
  // not an op to differentiate.
  const contiguous: Tensor[] = [];
  try {
    const chunks: Uint8Array[] = [header];
    for (const [, tensor] of entries) {
      const detached = tensor.detach();
      let c: Tensor;
      try {
        c = detached.contiguous();
      } finally {
        detached.dispose();
      }
      contiguous.push(c);
      if (c.numel === 0) continue;
      const data = c.data();
      chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    writeFileAtomic(fn, p, chunks);
  } finally {
    for (const c of contiguous) c.dispose();
  }
}
