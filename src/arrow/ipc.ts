// Arrow IPC (file and stream formats) for tables of tensors, with crash-safe writes and reads
// that turn bad input into errors naming the file and the problem.
//
// Field metadata (where the `arrow.fixed_shape_tensor` extension lives) survives the round trip:
// apache-arrow 21 serializes each Field's custom_metadata into the schema message and restores it
// on read (checked by test/arrow/ipc.test.ts), so nothing beyond the field metadata is needed.
//
// apache-arrow JS trusts what a file declares. Before parsing, verify.ts checks the metadata's
// structure (corrupt flatbuffers can otherwise hang the reader); after parsing, validateTable
// checks every buffer against the lengths the field nodes declare (a short buffer would otherwise
// give short typed arrays, subarray clamping silently, and values reading as undefined).
import { Data, DataType, FixedSizeList, Table, Type, Vector, isArrowTable, tableFromIPC, tableToIPC } from "apache-arrow";
import { describe } from "../tensor/dtype";
import { writeFileAtomic } from "../io/atomic";
import { readFileBytes } from "../io/file-bytes";
import { stripExtensionTypes } from "./tensor";
import { ArrowFormatError, verifyFile, verifyStream } from "./verify";

/** The two Arrow IPC formats: "file" (Feather v2, random access, `.arrow`) and "stream" (`.arrows`). */
export type IPCFormat = "file" | "stream";

/** Options of {@link tableToIPCBytes}. */
export interface IPCWriteOptions {
  /**
   * Keep the `arrow.fixed_shape_tensor` extension type on tensor columns (default true). With
   * false, tensor columns are written as plain FixedSizeList columns for readers that refuse
   * extension types, such as nodejs-polars 0.25 (see {@link stripExtensionTypes}).
   */
  extensionTypes?: boolean;
}

/** Options of {@link writeArrowFile}. */
export interface WriteArrowFileOptions extends IPCWriteOptions {
  /** IPC format to write (default "file"). */
  format?: IPCFormat;
}

const MAGIC = Buffer.from("ARROW1", "latin1");

function checkFormat(fn: string, format: unknown): IPCFormat {
  if (format !== "file" && format !== "stream") throw new TypeError(`${fn}: format must be 'file' or 'stream', received ${describe(format)}`);
  return format;
}

function checkTable(fn: string, table: unknown): Table {
  if (!isArrowTable(table)) {
    throw new TypeError(`${fn}: table must be an Arrow Table (build one with tensorsToTable), received ${describe(table)}`);
  }
  return table as Table;
}

/** Collects the problems of one Data (and its children): buffers shorter than its lengths say. */
function validateData(data: Data, where: string, problems: string[]): void {
  if (problems.length >= 8) return;
  const { length, offset } = data;
  const type = data.type as DataType;
  const need = (have: number, want: number, what: string): boolean => {
    if (have >= want) return true;
    problems.push(`${where}: ${what} holds ${have} entries, ${want} needed for ${length} rows`);
    return false;
  };
  const bitmap = data.nullBitmap as Uint8Array | undefined;
  if (bitmap && bitmap.length > 0) need(bitmap.length, (offset + length + 7) >> 3, "the validity bitmap");
  const values = data.values as ArrayLike<number | bigint> | undefined;
  const valuesLength = values?.length ?? 0;
  const offsets = data.valueOffsets as ArrayLike<number | bigint> | undefined;
  const checkOffsets = (limit: number, what: string): void => {
    if (!need(offsets?.length ?? 0, length + 1, "the offsets buffer") || length === 0) return;
    let prev = Number(offsets![0]);
    if (prev < 0) problems.push(`${where}: offset 0 is negative (${prev})`);
    for (let i = 1; i <= length; i++) {
      const cur = Number(offsets![i]);
      if (cur < prev) {
        problems.push(`${where}: offsets decrease at row ${i - 1} (${prev} then ${cur})`);
        return;
      }
      prev = cur;
    }
    if (prev > limit) problems.push(`${where}: the offsets reach ${prev}, but the ${what} holds ${limit}`);
  };
  switch (type.typeId) {
    case Type.Null:
    case Type.Union:
    case Type.DenseUnion:
    case Type.SparseUnion:
    case Type.BinaryView:
    case Type.Utf8View:
      return;
    case Type.Bool:
      need(valuesLength * 8, offset + length, "the value bitmap (bits)");
      return;
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary:
      checkOffsets(valuesLength, "value buffer");
      return;
    case Type.List:
    case Type.LargeList:
    case Type.Map: {
      const child = data.children[0];
      if (!child) {
        problems.push(`${where}: the list has no child data`);
        return;
      }
      checkOffsets(child.length, "child array");
      validateData(child, `${where}.item`, problems);
      return;
    }
    case Type.FixedSizeList: {
      const child = data.children[0];
      if (!child) {
        problems.push(`${where}: the list has no child data`);
        return;
      }
      need(child.length, length * (type as FixedSizeList).listSize, "the child array");
      validateData(child, `${where}.item`, problems);
      return;
    }
    case Type.Struct:
      data.children.forEach((child, i) => {
        const name = type.children?.[i]?.name ?? String(i);
        need(child.length, length, `child '${name}'`);
        validateData(child, `${where}.${name}`, problems);
      });
      return;
    case Type.Dictionary: {
      need(valuesLength, length * data.stride, "the index buffer");
      const dict = data.dictionary as Vector | undefined;
      for (const d of (dict?.data ?? []) as Data[]) validateData(d, `${where} (dictionary)`, problems);
      return;
    }
    default:
      // Fixed-width types: Int, Float, Decimal, Date, Time, Timestamp, Interval, Duration,
      // FixedSizeBinary. Their value buffers are sliced to the data's first row.
      need(valuesLength, length * data.stride, "the value buffer");
  }
}

/** Throws an error listing the buffers of `table` that disagree with its declared lengths. */
function validateTable(table: Table, label: string, hint: string, ErrorClass: new (message: string) => Error = Error): void {
  const problems: string[] = [];
  const fields = table.schema.fields;
  table.batches.forEach((batch, b) => {
    fields.forEach((field, i) => {
      const child = batch.data.children[i];
      if (!child) problems.push(`record batch ${b} has no data for column '${field.name}'`);
      else validateData(child, `record batch ${b}, column '${field.name}'`, problems);
    });
  });
  if (problems.length > 0) throw new ErrorClass(`${label}: ${hint}: ${problems.join("; ")}`);
}

/**
 * Serializes a table to Arrow IPC bytes (default format "file"). Field metadata, including the
 * `arrow.fixed_shape_tensor` extension, is written with the schema.
 *
 * @throws TypeError for a non-table or unknown format; Error when a column's memory is shorter
 *   than its length (for example a tensor it borrowed was disposed).
 */
export function tableToIPCBytes(table: Table, format: IPCFormat = "file", opts?: IPCWriteOptions): Uint8Array {
  const fn = "tableToIPCBytes";
  const t = checkTable(fn, table);
  const f = checkFormat(fn, format);
  const extensionTypes = checkOptions(fn, opts).extensionTypes ?? true;
  if (typeof extensionTypes !== "boolean") throw new TypeError(`${fn}: extensionTypes must be a boolean, received ${describe(extensionTypes)}`);
  validateTable(t, fn, "the table's memory disagrees with its lengths (was a tensor it borrows disposed?)");
  return tableToIPC(extensionTypes ? t : stripExtensionTypes(t), f);
}

function checkOptions<T extends object>(fn: string, opts: T | undefined): Partial<T> {
  if (opts === undefined) return {};
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) throw new TypeError(`${fn}: options must be an object, received ${describe(opts)}`);
  return opts;
}

/** Which IPC format `bytes` starts like, or a description of why it is neither. */
function sniff(bytes: Uint8Array): { format: IPCFormat } | { problem: string } {
  if (bytes.length === 0) return { problem: "it is empty" };
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 8));
  if (bytes.length >= 6 && head.subarray(0, 6).equals(MAGIC)) {
    const tail = Buffer.from(bytes.buffer, bytes.byteOffset + bytes.length - Math.min(bytes.length, 6), Math.min(bytes.length, 6));
    // Magic, padding, at least an end-of-stream marker and a footer length, magic.
    if (bytes.length < 6 + 2 + 4 + 6 || !tail.equals(MAGIC)) {
      return { problem: "it is truncated: it starts like an Arrow IPC file but its footer and closing ARROW1 magic are missing" };
    }
    return { format: "file" };
  }
  if (bytes.length < 8) return { problem: `it is too short (${bytes.length} bytes) to be an Arrow IPC file or stream` };
  // Streams since Arrow 0.15 start every message with the 0xFFFFFFFF continuation marker and end
  // with the end-of-stream marker 0xFFFFFFFF 0x00000000. Every current writer (arrow C++/JS/Rust,
  // polars) writes that marker on close; requiring it is how a stream cut at a message boundary
  // is told from a complete one.
  if (head.readUInt32LE(0) !== 0xffffffff) {
    return { problem: `it is not an Arrow IPC file or stream (it starts with bytes ${head.toString("hex").replace(/(..)/g, "$1 ").trim()})` };
  }
  const end = Buffer.from(bytes.buffer, bytes.byteOffset + bytes.length - 8, 8);
  if (end.readUInt32LE(0) !== 0xffffffff || end.readUInt32LE(4) !== 0) {
    return { problem: "it is truncated: it starts like an Arrow IPC stream but the end-of-stream marker is missing" };
  }
  return { format: "stream" };
}

/**
 * Parses Arrow IPC bytes (file or stream format, detected from the bytes) into a Table. The
 * table's buffers are views of `bytes` (no copy). `label` starts error messages (default
 * "tableFromIPCBytes").
 *
 * @throws TypeError when bytes is not a Uint8Array/ArrayBuffer; {@link ArrowFormatError} naming the
 *   problem when the bytes are empty, truncated, not Arrow IPC, or corrupt.
 */
export function tableFromIPCBytes(bytes: Uint8Array | ArrayBuffer, label = "tableFromIPCBytes"): Table {
  if (typeof label !== "string") throw new TypeError(`tableFromIPCBytes: label must be a string, received ${describe(label)}`);
  let view: Uint8Array;
  if (bytes instanceof Uint8Array) view = bytes;
  else if (bytes instanceof ArrayBuffer) view = new Uint8Array(bytes);
  else throw new TypeError(`${label}: bytes must be a Uint8Array, Buffer or ArrayBuffer, received ${describe(bytes)}`);
  const kind = sniff(view);
  if ("problem" in kind) throw new ArrowFormatError(`${label}: ${kind.problem}`);
  // Structure first: apache-arrow JS trusts the metadata and can hang or overflow the stack on
  // corrupt bytes (see verify.ts).
  if (kind.format === "file") verifyFile(view, label);
  else verifyStream(view, label);
  let table: Table;
  try {
    table = tableFromIPC(view);
  } catch (e) {
    throw new ArrowFormatError(`${label}: not a valid Arrow IPC ${kind.format} (${(e as Error)?.message ?? String(e)})`, { cause: e });
  }
  if (!isArrowTable(table)) throw new ArrowFormatError(`${label}: not a valid Arrow IPC ${kind.format} (the reader returned no table)`);
  validateTable(table, label, `corrupt Arrow IPC ${kind.format}, its data disagrees with its metadata`, ArrowFormatError);
  return table;
}

function checkPath(fn: string, p: unknown): string {
  if (typeof p !== "string" || p.length === 0) throw new TypeError(`${fn}: path must be a non-empty string, received ${describe(p)}`);
  return p;
}

/**
 * Writes a table to an Arrow IPC file (format "file" by default, or "stream") without ever
 * leaving a partial file at `path`: the bytes go to a temporary file in the same directory,
 * which is fsynced, renamed over `path`, and the directory fsynced. On failure the temporary file
 * is removed and `path` is left as it was.
 *
 * @throws TypeError for wrong argument kinds; Error naming the file when the write fails.
 */
export function writeArrowFile(filePath: string, table: Table, opts?: WriteArrowFileOptions): void {
  const fn = "writeArrowFile";
  const target = checkPath(fn, filePath);
  checkTable(fn, table);
  const options = checkOptions(fn, opts);
  const format = checkFormat(fn, options.format ?? "file");
  const bytes = (() => {
    try {
      return tableToIPCBytes(table, format, { extensionTypes: options.extensionTypes });
    } catch (e) {
      if (e instanceof TypeError) throw new TypeError(`${fn}: ${e.message.replace(/^tableToIPCBytes: /, "")}`);
      throw new Error(`${fn}: cannot write '${target}': ${(e as Error).message.replace(/^tableToIPCBytes: /, "")}`, { cause: e });
    }
  })();
  writeFileAtomic(fn, target, [bytes]);
}

/**
 * Reads an Arrow IPC file or stream (detected from its bytes) into a Table. The whole file is
 * read into memory and the table's buffers are views of it.
 *
 * @throws TypeError for a non-string path; Error naming the file when it is missing or
 *   unreadable; {@link ArrowFormatError} naming the file and the problem when it is empty,
 *   truncated, not Arrow, or corrupt.
 */
export function readArrowFile(filePath: string): Table {
  const fn = "readArrowFile";
  const p = checkPath(fn, filePath);
  // The one reading path of the library: regular files only (a FIFO or /dev/zero is refused, not
  // read forever), at most one buffer's worth.
  const bytes = readFileBytes(p, fn, { map: false });
  return tableFromIPCBytes(bytes, `${fn}: '${p}'`);
}
