// Tensors <-> Arrow columns, as the canonical `arrow.fixed_shape_tensor` extension type.
//
// A tensor of shape [N, ...rest] is a FixedSizeList column of N rows, list_size = prod(rest),
// whose field carries `ARROW:extension:name` = `arrow.fixed_shape_tensor` and
// `ARROW:extension:metadata` = {"shape": rest, "dim_names"?: [...]}. apache-arrow JS has no
// extension-type API: the extension lives only in the field metadata we set and read here, and
// the IPC writer carries field metadata through unchanged (tested).
//
// Memory: f32, f16, bf16, i8, i32 and u8 cross in both directions without a copy when the
// layout allows. The Arrow column then borrows the tensor's storage (dispose the tensor only
// once done with the column: disposing detaches the buffer, and the column reads as empty), and
// a tensor made from a column wraps the Arrow memory as caller-owned "foreign" storage (dispose
// never frees it; the garbage collector keeps it alive while the tensor lives).
import {
  Data,
  DataType,
  Field,
  FixedSizeList,
  Float16,
  Float32,
  Int8,
  Int32,
  Precision,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Uint8,
  Uint16,
  Vector,
  isArrowField,
  isArrowRecordBatch,
  isArrowTable,
  isArrowVector,
  makeData,
  makeVector,
  util as arrowUtil,
} from "apache-arrow";
import { wrap } from "../tensor/create";
import { AnyDataArray, DType, describe } from "../tensor/dtype";
import { MAX_DIMS, formatShape } from "../tensor/shape";
import { Tensor } from "../tensor/tensor";

/** Field metadata key naming an Arrow extension type. */
export const EXTENSION_NAME_KEY = "ARROW:extension:name";
/** Field metadata key holding an Arrow extension type's serialized parameters. */
export const EXTENSION_METADATA_KEY = "ARROW:extension:metadata";
/** The canonical extension name for fixed-shape tensor columns. */
export const FIXED_SHAPE_TENSOR = "arrow.fixed_shape_tensor";
/**
 * Field metadata key recording a bitnet-lab dtype that Arrow has no type for: `bf16` (stored as
 * Uint16 bit patterns) and `ternary2` (stored unpacked as Int8 values -1, 0, +1).
 */
export const DTYPE_METADATA_KEY = "bitnet_lab:dtype";

/**
 * Field metadata key that carries the `arrow.fixed_shape_tensor` metadata JSON in files written
 * without extension types (see {@link stripExtensionTypes}), so that shapes, dim names and dtypes
 * still round-trip through readers that refuse extension types.
 */
export const PLAIN_TENSOR_KEY = "bitnet_lab:fixed_shape_tensor";

/** Largest list_size a FixedSizeList may declare (it is an int32 in the Arrow schema). */
const MAX_LIST_SIZE = 2 ** 31 - 1;

/** An Arrow column holding a tensor: the FixedSizeList vector and its field with the metadata. */
export interface TensorColumn {
  /** The column's field: name, FixedSizeList type and the extension metadata. */
  field: Field;
  /** The column's data: one row per index of the tensor's first dimension. */
  vector: Vector;
}

/** Options of {@link tensorToArrow}. */
export interface TensorToArrowOptions {
  /** Column name (default "tensor"). */
  name?: string;
  /** Names of the tensor's dimensions after the first (the row dimension), one per dimension. */
  dimNames?: string[];
}

/** What a fixed-shape-tensor column's field says about the tensors it holds. */
export interface TensorColumnInfo {
  /** Tensor dtype the column reads back as. */
  dtype: DType;
  /** Physical (row-major) shape of one row's tensor, as stored in the metadata. */
  shape: number[];
  /** Elements per row (product of `shape`). */
  listSize: number;
  /** Dimension names of the physical layout, when the metadata gives them. */
  dimNames?: string[];
  /** Logical order of the physical dimensions, when the metadata gives one. */
  permutation?: number[];
  /**
   * Whether the field carries the `arrow.fixed_shape_tensor` extension name (false for a plain
   * column, including one whose layout comes from the `bitnet_lab:fixed_shape_tensor` key).
   */
  extension: boolean;
}

// How each dtype is stored in Arrow. `array` is the typed array arrow-js exposes as the child
// values; `copy` marks dtypes that cannot share memory (ternary2 is packed four a byte).
interface Storage {
  arrowType: () => DataType;
  array: { new (length: number): AnyDataArray; BYTES_PER_ELEMENT: number; name: string };
  /** The dtype of the tensor that holds the stored values (i8 for ternary2). */
  stored: DType;
  tag?: string;
}

const STORAGE: Record<DType, Storage> = {
  f32: { arrowType: () => new Float32(), array: Float32Array, stored: "f32" },
  f16: { arrowType: () => new Float16(), array: Uint16Array, stored: "f16" },
  bf16: { arrowType: () => new Uint16(), array: Uint16Array, stored: "bf16", tag: "bf16" },
  i8: { arrowType: () => new Int8(), array: Int8Array, stored: "i8" },
  i32: { arrowType: () => new Int32(), array: Int32Array, stored: "i32" },
  u8: { arrowType: () => new Uint8(), array: Uint8Array, stored: "u8" },
  ternary2: { arrowType: () => new Int8(), array: Int8Array, stored: "i8", tag: "ternary2" },
};

/** A printable Arrow type name for error messages. */
function typeName(type: unknown): string {
  try {
    return String(type);
  } catch {
    return describe(type);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/**
 * Converts a tensor to an Arrow `arrow.fixed_shape_tensor` column: dimension 0 becomes the rows,
 * the other dimensions the shape of each row's tensor (a 1-D tensor gives rows of shape []).
 *
 * No copy is made for a contiguous f32, f16, bf16, i8, i32 or u8 tensor: the column's child
 * values are a view of the tensor's storage, so writes through either side are seen by the other,
 * and the tensor must stay undisposed while the column is in use. Non-contiguous tensors are
 * copied into JS-owned memory; ternary2 is unpacked into Int8 values (a copy) tagged with
 * `bitnet_lab:dtype` so that {@link tensorFromArrow} packs it again. bf16 is stored as Uint16 bit
 * patterns with the same tag.
 *
 * @throws TypeError for a non-tensor, a disposed tensor or malformed options; RangeError for a 0-d
 *   tensor (reshape it to [1] first) or dimNames of the wrong length.
 */
export function tensorToArrow(t: Tensor, opts?: TensorToArrowOptions): TensorColumn {
  const fn = "tensorToArrow";
  if (!(t instanceof Tensor)) throw new TypeError(`${fn}: t must be a Tensor, received ${describe(t)}`);
  if (t.disposed) throw new TypeError(`${fn}: t was disposed`);
  if (opts !== undefined && !isPlainObject(opts)) throw new TypeError(`${fn}: options must be an object, received ${describe(opts)}`);
  const name = opts?.name ?? "tensor";
  if (typeof name !== "string") throw new TypeError(`${fn}: name must be a string, received ${describe(name)}`);
  if (t.ndim === 0) {
    throw new RangeError(`${fn}: a 0-d tensor has no row dimension; reshape it to [1] first (column '${name}')`);
  }
  const rows = t.shape[0];
  const inner = t.shape.slice(1);
  const dimNames = opts?.dimNames;
  if (dimNames !== undefined) {
    if (!Array.isArray(dimNames)) throw new TypeError(`${fn}: dimNames must be an array of strings, received ${describe(dimNames)}`);
    if (dimNames.length !== inner.length) {
      throw new RangeError(
        `${fn}: dimNames must name the ${inner.length} dimensions after the row dimension of shape ${formatShape(t.shape)}, received ${dimNames.length} names`,
      );
    }
    dimNames.forEach((d, i) => {
      if (typeof d !== "string") throw new TypeError(`${fn}: dimNames[${i}] must be a string, received ${describe(d)}`);
    });
  }
  let listSize = 1;
  for (const d of inner) listSize *= d;
  if (listSize > MAX_LIST_SIZE) {
    throw new RangeError(`${fn}: rows of shape ${formatShape(inner)} hold ${listSize} elements, more than Arrow's list_size limit ${MAX_LIST_SIZE}`);
  }

  const store = STORAGE[t.dtype];
  let values: AnyDataArray;
  if (t.dtype === "ternary2") {
    const unpacked = t.to("i8");
    try {
      values = (unpacked.data() as Int8Array).slice();
    } finally {
      unpacked.dispose();
    }
  } else if (t.isContiguous()) {
    values = t.data() as AnyDataArray;
  } else {
    // A JS-owned copy: the column must not depend on a temporary tensor we dispose here.
    const c = t.contiguous();
    try {
      values = (c.data() as AnyDataArray).slice();
    } finally {
      c.dispose();
    }
  }

  const childType = store.arrowType();
  const child = makeData({ type: childType, length: rows * listSize, nullCount: 0, data: values } as never) as Data;
  const listType = new FixedSizeList(listSize, new Field("item", childType, true));
  const listData = makeData({ type: listType, length: rows, nullCount: 0, child });
  const metadata = new Map<string, string>([
    [EXTENSION_NAME_KEY, FIXED_SHAPE_TENSOR],
    [EXTENSION_METADATA_KEY, JSON.stringify(dimNames === undefined ? { shape: inner } : { shape: inner, dim_names: dimNames })],
  ]);
  if (store.tag !== undefined) metadata.set(DTYPE_METADATA_KEY, store.tag);
  return { field: new Field(name, listType, false, metadata), vector: makeVector(listData) };
}

/** Reads the element dtype from a child Arrow type plus the optional bitnet-lab tag. */
function dtypeOfChild(type: DataType, tag: string | undefined, label: string): DType {
  let natural: DType | undefined;
  if (DataType.isFloat(type)) {
    const p = (type as Float16 | Float32).precision;
    natural = p === Precision.SINGLE ? "f32" : p === Precision.HALF ? "f16" : undefined;
  } else if (DataType.isInt(type)) {
    const { bitWidth, isSigned } = type as Int8;
    if (bitWidth === 8) natural = isSigned ? "i8" : "u8";
    else if (bitWidth === 32 && isSigned) natural = "i32";
    else if (bitWidth === 16 && !isSigned && tag === "bf16") natural = "bf16";
  }
  if (tag !== undefined) {
    if (tag !== "bf16" && tag !== "ternary2") {
      throw new TypeError(`${label}: ${DTYPE_METADATA_KEY} must be 'bf16' or 'ternary2', received ${describe(tag)}`);
    }
    const expected = STORAGE[tag].arrowType();
    if (!arrowUtil.compareTypes(type, expected)) {
      throw new TypeError(`${label}: ${DTYPE_METADATA_KEY} '${tag}' needs ${typeName(expected)} values, the column holds ${typeName(type)}`);
    }
    return tag;
  }
  if (natural === undefined) {
    throw new TypeError(
      `${label}: element type ${typeName(type)} is not supported (supported: Float32, Float16, Int8, Int32, Uint8, and Uint16 tagged ${DTYPE_METADATA_KEY}=bf16)`,
    );
  }
  return natural;
}

function parseJson(raw: string, label: string, key: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new TypeError(`${label}: ${key} is not valid JSON (${(e as Error).message}): ${describe(raw)}`);
  }
  if (!isPlainObject(parsed)) throw new TypeError(`${label}: ${key} must be a JSON object, received ${describe(parsed)}`);
  return parsed;
}

/** Validates the extension metadata against the FixedSizeList's list_size. */
function parseExtensionMetadata(
  raw: string | undefined,
  listSize: number,
  label: string,
  key: string,
): Pick<TensorColumnInfo, "shape" | "dimNames" | "permutation"> {
  if (raw === undefined) throw new TypeError(`${label}: the field names ${FIXED_SHAPE_TENSOR} but has no ${EXTENSION_METADATA_KEY}`);
  const meta = parseJson(raw, label, key);
  const shape = own(meta, "shape");
  if (!Array.isArray(shape)) throw new TypeError(`${label}: the metadata's "shape" must be an array of integers, received ${describe(shape)}`);
  if (shape.length > MAX_DIMS - 1) {
    throw new RangeError(`${label}: the metadata's "shape" has ${shape.length} dimensions; at most ${MAX_DIMS - 1} fit a tensor with its row dimension`);
  }
  let product = 1;
  shape.forEach((d, i) => {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`${label}: the metadata's shape[${i}] must be a non-negative integer, received ${describe(d)}`);
    }
    product = Math.min(product * d, Number.MAX_SAFE_INTEGER);
  });
  if (product !== listSize) {
    throw new RangeError(
      `${label}: the metadata's shape [${shape.join(", ")}] has ${product >= Number.MAX_SAFE_INTEGER ? "more than 2^53" : product} elements but the FixedSizeList's list_size is ${listSize}`,
    );
  }
  const out: Pick<TensorColumnInfo, "shape" | "dimNames" | "permutation"> = { shape: shape.slice() as number[] };
  const dimNames = own(meta, "dim_names");
  if (dimNames !== undefined) {
    if (!Array.isArray(dimNames) || dimNames.length !== shape.length || dimNames.some((d) => typeof d !== "string")) {
      throw new TypeError(`${label}: the metadata's "dim_names" must be an array of ${shape.length} strings, received ${describe(dimNames)}`);
    }
    out.dimNames = dimNames.slice() as string[];
  }
  const perm = own(meta, "permutation");
  if (perm !== undefined) {
    const n = shape.length;
    const ok =
      Array.isArray(perm) &&
      perm.length === n &&
      perm.every((p) => typeof p === "number" && Number.isInteger(p) && p >= 0 && p < n) &&
      new Set(perm).size === n;
    if (!ok) throw new RangeError(`${label}: the metadata's "permutation" must be a permutation of 0..${n - 1}, received ${describe(perm)}`);
    if (!(perm as number[]).every((p, i) => p === i)) out.permutation = perm.slice() as number[];
  }
  return out;
}

/** Works out dtype and row shape from a field (or, without one, from the type alone). */
function columnInfo(field: Field | undefined, type: DataType, label: string): TensorColumnInfo {
  const metadata = field?.metadata ?? new Map<string, string>();
  const extName = metadata.get(EXTENSION_NAME_KEY);
  if (extName !== undefined && extName !== FIXED_SHAPE_TENSOR) {
    throw new TypeError(`${label}: the field has extension type '${extName}', expected '${FIXED_SHAPE_TENSOR}'`);
  }
  const tag = metadata.get(DTYPE_METADATA_KEY);
  const extension = extName === FIXED_SHAPE_TENSOR;
  if (!DataType.isFixedSizeList(type)) {
    if (extension) throw new TypeError(`${label}: a ${FIXED_SHAPE_TENSOR} column must be a FixedSizeList, it is ${typeName(type)}`);
    // A plain primitive column (no extension metadata) reads as a 1-D tensor.
    return { dtype: dtypeOfChild(type, tag, label), shape: [], listSize: 1, extension };
  }
  const listSize = (type as FixedSizeList).listSize;
  if (!Number.isSafeInteger(listSize) || listSize < 0) throw new RangeError(`${label}: invalid FixedSizeList list_size ${describe(listSize)}`);
  const childType = (type as FixedSizeList).valueType;
  const dtype = dtypeOfChild(childType, tag, label);
  const raw = extension ? metadata.get(EXTENSION_METADATA_KEY) : metadata.get(PLAIN_TENSOR_KEY);
  if (!extension && raw === undefined) return { dtype, shape: [listSize], listSize, extension };
  return { dtype, listSize, extension, ...parseExtensionMetadata(raw, listSize, label, extension ? EXTENSION_METADATA_KEY : PLAIN_TENSOR_KEY) };
}

/**
 * Reads the tensor layout a field describes (dtype, per-row shape, dim names, permutation),
 * validating the `arrow.fixed_shape_tensor` metadata against the FixedSizeList type.
 *
 * @throws TypeError or RangeError naming the field when the metadata or type is invalid.
 */
export function tensorColumnInfo(field: Field): TensorColumnInfo {
  if (!isArrowField(field)) throw new TypeError(`tensorColumnInfo: field must be an Arrow Field, received ${describe(field)}`);
  return columnInfo(field, field.type, `tensorColumnInfo: column '${field.name}'`);
}

/** Whether a field is a tensor column: the extension type, or a plain one with our layout key. */
function isTensorField(field: Field): boolean {
  const ext = field.metadata.get(EXTENSION_NAME_KEY);
  return ext === FIXED_SHAPE_TENSOR || (ext === undefined && field.metadata.has(PLAIN_TENSOR_KEY));
}

/** The source of {@link tensorFromArrow}. */
export type TensorSource = TensorColumn | Vector | Table | RecordBatch;

function resolveSource(source: unknown, column: unknown, fn: string): { field: Field | undefined; vector: Vector; label: string } {
  if (column !== undefined && typeof column !== "string") throw new TypeError(`${fn}: column must be a string, received ${describe(column)}`);
  if (isArrowTable(source) || isArrowRecordBatch(source)) {
    const schema = (source as Table | RecordBatch).schema as Schema;
    let name = column;
    if (name === undefined) {
      const tensors = schema.fields.filter(isTensorField);
      if (tensors.length !== 1) {
        throw new TypeError(
          `${fn}: pass the column name; the table has ${tensors.length} tensor columns among [${schema.fields.map((f) => `'${f.name}'`).join(", ")}]`,
        );
      }
      name = tensors[0].name;
    }
    const index = schema.fields.findIndex((f) => f.name === name);
    if (index < 0) throw new RangeError(`${fn}: no column '${name}' in the table (columns: ${schema.fields.map((f) => `'${f.name}'`).join(", ")})`);
    const vector = (source as Table).getChildAt(index) as Vector;
    return { field: schema.fields[index], vector, label: `${fn}: column '${name}'` };
  }
  if (column !== undefined) throw new TypeError(`${fn}: column is only used with a Table or RecordBatch source`);
  if (isArrowVector(source)) return { field: undefined, vector: source as Vector, label: `${fn}: vector` };
  if (typeof source === "object" && source !== null && "field" in source && "vector" in source) {
    const { field, vector } = source as TensorColumn;
    if (!isArrowField(field)) throw new TypeError(`${fn}: source.field must be an Arrow Field, received ${describe(field)}`);
    if (!isArrowVector(vector)) throw new TypeError(`${fn}: source.vector must be an Arrow Vector, received ${describe(vector)}`);
    const label = `${fn}: column '${field.name}'`;
    if (!arrowUtil.compareTypes(field.type, vector.type)) {
      throw new TypeError(`${label}: the field's type ${typeName(field.type)} differs from the vector's ${typeName(vector.type)}`);
    }
    return { field, vector, label };
  }
  throw new TypeError(`${fn}: source must be a TensorColumn {field, vector}, an Arrow Vector, Table or RecordBatch, received ${describe(source)}`);
}

/** The element values of one chunk, checked for nulls and length (a view, never a copy). */
function chunkValues(chunk: Data, info: TensorColumnInfo, label: string, chunkIndex: number): AnyDataArray {
  const where = `${label} (chunk ${chunkIndex})`;
  if (chunk.nullCount > 0) throw new RangeError(`${where}: ${chunk.nullCount} of ${chunk.length} rows are null; tensors cannot hold nulls`);
  const elements = chunk.length * info.listSize;
  const leaf = DataType.isFixedSizeList(chunk.type) ? chunk.children[0] : chunk;
  if (leaf === undefined) throw new RangeError(`${where}: the FixedSizeList has no child data`);
  if (leaf.length < elements) throw new RangeError(`${where}: the child array holds ${leaf.length} values, ${elements} needed for ${chunk.length} rows`);
  if (leaf.nullCount > 0 && leaf !== chunk) {
    // Nulls outside the rows this chunk covers would not matter, but counting them costs more than
    // refusing: producers of tensor columns write no nulls at all.
    throw new RangeError(`${where}: the child array has ${leaf.nullCount} null values; tensors cannot hold nulls`);
  }
  const values = leaf.values as unknown;
  const ctor = STORAGE[info.dtype].array;
  if (!(values instanceof ctor)) {
    throw new TypeError(`${where}: expected ${ctor.name} values from Arrow, found ${describe(values)}`);
  }
  if (values.length < elements) {
    throw new RangeError(`${where}: the value buffer holds ${values.length} values, ${elements} needed for ${chunk.length} rows (truncated data or released memory)`);
  }
  return values.length === elements ? values : (values.subarray(0, elements) as AnyDataArray);
}

/**
 * Converts an Arrow column back to a tensor of shape [rows, ...shape] (a column without
 * extension metadata reads as [rows, list_size], a primitive column as [rows]).
 *
 * `source` is a {@link TensorColumn} (field + vector), a bare Vector (no metadata: the shape
 * is inferred from the type), or a Table / RecordBatch with the column name (optional when the
 * table has exactly one `arrow.fixed_shape_tensor` column).
 *
 * No copy is made when the column is a single chunk without nulls and its values are a plain
 * typed array of the dtype (f32, f16, bf16, i8, i32, u8): the tensor wraps the Arrow memory, which
 * the caller keeps owning; writes through either side are seen by the other. A "permutation"
 * in the metadata gives a permuted view of that memory. Columns of several chunks are copied,
 * and ternary2 columns are packed (a copy).
 *
 * @throws TypeError for wrong argument kinds, unsupported element types or malformed metadata,
 *   RangeError for list_size / shape mismatches, null values and short buffers; every message
 *   names the column.
 */
export function tensorFromArrow(source: TensorSource, column?: string): Tensor {
  const fn = "tensorFromArrow";
  const { field, vector, label } = resolveSource(source, column, fn);
  const info = columnInfo(field, vector.type as DataType, label);
  const rows = vector.length;
  const fullShape = [rows, ...info.shape];
  const store = STORAGE[info.dtype];
  const chunks = vector.data as Data[];
  const parts = chunks.map((c, i) => chunkValues(c, info, label, i));

  let stored: Tensor;
  if (parts.length === 1) {
    stored = wrap(parts[0], { shape: fullShape, dtype: store.stored });
  } else {
    stored = Tensor.empty(fullShape, store.stored);
    const out = stored.data() as AnyDataArray;
    let at = 0;
    for (const p of parts) {
      out.set(p as never, at);
      at += p.length;
    }
  }
  let result: Tensor = stored;
  if (info.permutation !== undefined) {
    result = stored.permute([0, ...info.permutation.map((p) => p + 1)]);
    stored.dispose();
  }
  if (info.dtype !== "ternary2") return result;
  try {
    return result.to("ternary2");
  } catch (e) {
    throw new RangeError(`${label}: not a valid ternary2 column: ${(e as Error).message}`);
  } finally {
    result.dispose();
  }
}

/** Row-aligned Data chunks: splits every column at the union of all columns' chunk edges. */
function alignChunks(vectors: Vector[], rows: number): Data[][] {
  if (rows === 0) {
    return [vectors.map((v) => ((v.data as Data[])[0] ?? (makeData({ type: v.type, length: 0, nullCount: 0 } as never) as Data)).slice(0, 0))];
  }
  const edges = new Set<number>([0, rows]);
  for (const v of vectors) {
    let at = 0;
    for (const d of v.data as Data[]) edges.add((at += d.length));
  }
  const cuts = [...edges].sort((a, b) => a - b);
  const cursor = vectors.map(() => ({ chunk: 0, start: 0 }));
  const batches: Data[][] = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    const from = cuts[k];
    const length = cuts[k + 1] - from;
    batches.push(
      vectors.map((v, i) => {
        const chunks = v.data as Data[];
        const c = cursor[i];
        // Chunk edges are among the cuts, so [from, from + length) lies inside one chunk.
        while (from >= c.start + chunks[c.chunk].length) c.start += chunks[c.chunk++].length;
        const d = chunks[c.chunk];
        return from === c.start && length === d.length ? d : d.slice(from - c.start, length);
      }),
    );
  }
  return batches;
}

/**
 * Builds an Arrow Table from named columns: tensors (converted with {@link tensorToArrow}, zero-copy
 * where it allows, so keep them undisposed while the table is in use), {@link TensorColumn}s (any
 * field + vector, e.g. a plain Float64 column) or bare Vectors. The field of each column is named
 * by its key; its metadata is kept.
 *
 * @throws TypeError for wrong argument kinds, RangeError when the columns' row counts differ.
 */
export function tensorsToTable(columns: Record<string, Tensor | TensorColumn | Vector>): Table {
  const fn = "tensorsToTable";
  if (!isPlainObject(columns)) throw new TypeError(`${fn}: columns must be an object mapping names to tensors or columns, received ${describe(columns)}`);
  const names = Object.keys(columns);
  if (names.length === 0) throw new RangeError(`${fn}: columns must name at least one column`);
  const fields: Field[] = [];
  const vectors: Vector[] = [];
  for (const name of names) {
    const value = columns[name] as unknown;
    let field: Field;
    let vector: Vector;
    if (value instanceof Tensor) {
      if (value.disposed) throw new TypeError(`${fn}: column '${name}': the tensor was disposed`);
      ({ field, vector } = tensorToArrow(value, { name }));
    } else if (isArrowVector(value)) {
      vector = value as Vector;
      field = new Field(name, vector.type, vector.nullCount > 0);
    } else if (typeof value === "object" && value !== null && "field" in value && "vector" in value) {
      const col = value as TensorColumn;
      if (!isArrowField(col.field)) throw new TypeError(`${fn}: column '${name}': field must be an Arrow Field, received ${describe(col.field)}`);
      if (!isArrowVector(col.vector)) throw new TypeError(`${fn}: column '${name}': vector must be an Arrow Vector, received ${describe(col.vector)}`);
      if (!arrowUtil.compareTypes(col.field.type, col.vector.type)) {
        throw new TypeError(`${fn}: column '${name}': the field's type ${typeName(col.field.type)} differs from the vector's ${typeName(col.vector.type)}`);
      }
      vector = col.vector;
      const nullable = col.field.nullable || col.vector.nullCount > 0;
      field = new Field(name, col.field.type, nullable, new Map(col.field.metadata));
    } else {
      throw new TypeError(`${fn}: column '${name}' must be a Tensor, a TensorColumn {field, vector} or an Arrow Vector, received ${describe(value)}`);
    }
    fields.push(field);
    vectors.push(vector);
  }
  const rows = vectors[0].length;
  vectors.forEach((v, i) => {
    if (v.length !== rows) {
      throw new RangeError(`${fn}: column '${names[i]}' has ${v.length} rows, column '${names[0]}' has ${rows}; all columns need the same row count`);
    }
  });
  const schema = new Schema(fields);
  const structType = new Struct(fields);
  const batches = alignChunks(vectors, rows).map(
    (children) => new RecordBatch(schema, makeData({ type: structType, length: children[0].length, nullCount: 0, children })),
  );
  return new Table(schema, batches);
}

/**
 * Converts every `arrow.fixed_shape_tensor` column of a table to a tensor (see
 * {@link tensorFromArrow} for when memory is shared); other columns are skipped. The caller owns
 * (and disposes) the returned tensors. If one column fails, the tensors made so far are disposed.
 */
export function tableToTensors(table: Table): Record<string, Tensor> {
  const fn = "tableToTensors";
  if (!isArrowTable(table)) throw new TypeError(`${fn}: table must be an Arrow Table, received ${describe(table)}`);
  const out: Record<string, Tensor> = {};
  try {
    for (const field of (table.schema as Schema).fields) {
      if (!isTensorField(field)) continue;
      const t = tensorFromArrow(table, field.name);
      if (Object.prototype.hasOwnProperty.call(out, field.name)) {
        t.dispose();
        throw new RangeError(`${fn}: the table has two columns named '${field.name}'`);
      }
      out[field.name] = t;
    }
  } catch (e) {
    for (const t of Object.values(out)) t.dispose();
    throw e;
  }
  return out;
}

/**
 * The same table (sharing all data) with every `arrow.fixed_shape_tensor` column turned into a
 * plain FixedSizeList column: the `ARROW:extension:*` keys are dropped and the metadata JSON moves
 * to the `bitnet_lab:fixed_shape_tensor` key, which {@link tensorFromArrow} and
 * {@link tableToTensors} also understand. For readers that refuse extension types: nodejs-polars
 * 0.25 fails on any field carrying `ARROW:extension:name` ("cannot create series from
 * Extension(...)"), and reads the plain columns as Array columns. Other columns are unchanged.
 */
export function stripExtensionTypes(table: Table): Table {
  if (!isArrowTable(table)) throw new TypeError(`stripExtensionTypes: table must be an Arrow Table, received ${describe(table)}`);
  const old = table.schema as Schema;
  const fields = old.fields.map((f) => {
    if (f.metadata.get(EXTENSION_NAME_KEY) !== FIXED_SHAPE_TENSOR) return f;
    const metadata = new Map(f.metadata);
    metadata.delete(EXTENSION_NAME_KEY);
    metadata.delete(EXTENSION_METADATA_KEY);
    metadata.set(PLAIN_TENSOR_KEY, f.metadata.get(EXTENSION_METADATA_KEY) ?? "");
    return new Field(f.name, f.type, f.nullable, metadata);
  });
  const schema = new Schema(fields, new Map(old.metadata));
  const structType = new Struct(fields);
  const batches = table.batches.map(
    (b) => new RecordBatch(schema, makeData({ type: structType, length: b.numRows, nullCount: 0, children: b.data.children })),
  );
  return new Table(schema, batches);
}
