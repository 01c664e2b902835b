// Structural verification of Arrow IPC bytes before apache-arrow JS parses them.
//
// apache-arrow JS reads the flatbuffer metadata without a verifier: a corrupt vector length makes
// it loop up to 2^31 times (a hang), a cyclic offset makes it recurse until the stack overflows,
// and a huge declared row count makes it allocate validity bitmaps for rows that do not exist.
// Arrow C++ runs the flatbuffers verifier for the same reason. This module walks the same bytes
// the reader will read (the footer and every block of a file, every message of a stream) and
// checks that every table, vector and string lies inside its buffer, that nesting is bounded, and
// that record batches are consistent with the schema (node counts, row counts, buffer ranges).
//
// Layouts follow Arrow's Schema.fbs / Message.fbs / File.fbs; slot numbers are the fields'
// declaration order (a union takes two slots: its type byte, then its offset).
import { FormatError } from "../errors";

/**
 * Thrown when bytes are not well-formed Arrow IPC (empty, truncated, not Arrow, or corrupt); the
 * message starts with the file or function it concerns and says what is wrong.
 */
export class ArrowFormatError extends FormatError {
  override name = "ArrowFormatError";
  constructor(message: string, options?: ErrorOptions) {
    super("Arrow IPC", message, options);
  }
}

const MAX_DEPTH = 64;
const MAX_ROWS = 2 ** 31 - 1;

interface Table {
  pos: number;
  /** Absolute positions of the fields' vtable entries: 0 when absent. */
  fields: number[];
  size: number;
}

/** A bounds-checked reader of one flatbuffer (the bytes of one message or of the footer). */
class Flatbuffer {
  private readonly dv: DataView;
  private visits = 0;
  private readonly budget: number;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly where: string,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // A well-formed tree of tables needs several bytes per table; more visits than bytes means
    // shared or cyclic offsets, which the JS reader would expand without end.
    this.budget = bytes.byteLength + 16;
  }

  fail(what: string): never {
    throw new ArrowFormatError(`${this.where}: ${what}`);
  }

  private need(pos: number, len: number, what: string): void {
    if (!(pos >= 0 && len >= 0 && pos + len <= this.bytes.byteLength)) {
      this.fail(`${what} lies outside the metadata (bytes ${pos}..${pos + len} of ${this.bytes.byteLength})`);
    }
  }

  u8(pos: number): number {
    this.need(pos, 1, "a byte");
    return this.dv.getUint8(pos);
  }

  i16(pos: number): number {
    this.need(pos, 2, "an int16");
    return this.dv.getInt16(pos, true);
  }

  i32(pos: number): number {
    this.need(pos, 4, "an int32");
    return this.dv.getInt32(pos, true);
  }

  u32(pos: number): number {
    this.need(pos, 4, "a uint32");
    return this.dv.getUint32(pos, true);
  }

  i64(pos: number): number {
    this.need(pos, 8, "an int64");
    const v = this.dv.getBigInt64(pos, true);
    return v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(-Number.MAX_SAFE_INTEGER) ? NaN : Number(v);
  }

  /** The root table. */
  root(name: string): Table {
    return this.table(this.u32(0), name);
  }

  table(pos: number, name: string): Table {
    if (++this.visits > this.budget) this.fail(`the metadata references more tables than it can hold (shared or cyclic offsets at ${name})`);
    this.need(pos, 4, `table ${name}`);
    const vt = pos - this.dv.getInt32(pos, true);
    this.need(vt, 4, `the vtable of ${name}`);
    const vtSize = this.dv.getUint16(vt, true);
    const size = this.dv.getUint16(vt + 2, true);
    if (vtSize < 4 || vtSize % 2 !== 0) this.fail(`the vtable of ${name} has an invalid size ${vtSize}`);
    this.need(vt, vtSize, `the vtable of ${name}`);
    if (size < 4) this.fail(`table ${name} has an invalid size ${size}`);
    this.need(pos, size, `table ${name}`);
    const fields: number[] = [];
    for (let i = 0; i < (vtSize - 4) / 2; i++) {
      const off = this.dv.getUint16(vt + 4 + 2 * i, true);
      if (off !== 0 && off + 1 > size) this.fail(`field ${i} of ${name} lies outside its table`);
      fields.push(off === 0 ? 0 : pos + off);
    }
    return { pos, fields, size };
  }

  /** Position of a scalar field of `width` bytes, or 0 when absent. */
  scalar(t: Table, slot: number, width: number, name: string): number {
    const p = t.fields[slot] ?? 0;
    if (p === 0) return 0;
    if (p + width > t.pos + t.size) this.fail(`${name} lies outside its table`);
    return p;
  }

  /** Absolute target of an offset field, or 0 when absent. */
  ref(t: Table, slot: number, name: string): number {
    const p = this.scalar(t, slot, 4, name);
    if (p === 0) return 0;
    const target = p + this.u32(p);
    this.need(target, 4, name);
    return target;
  }

  /** [start, count] of a vector field whose elements take `width` bytes, or undefined. */
  vector(t: Table, slot: number, width: number, name: string): [number, number] | undefined {
    const v = this.ref(t, slot, name);
    if (v === 0) return undefined;
    const n = this.u32(v);
    if (n * width > this.bytes.byteLength) this.fail(`${name} declares ${n} elements, more than the metadata can hold`);
    this.need(v + 4, n * width, name);
    return [v + 4, n];
  }

  string(t: Table, slot: number, name: string): void {
    this.vector(t, slot, 1, name);
  }

  /** Visits each table of a vector-of-tables field. */
  tables(t: Table, slot: number, name: string, visit: (table: Table, i: number) => void): number {
    const vec = this.vector(t, slot, 4, name);
    if (vec === undefined) return 0;
    const [start, n] = vec;
    for (let i = 0; i < n; i++) {
      const p = start + 4 * i;
      visit(this.table(p + this.u32(p), `${name}[${i}]`), i);
    }
    return n;
  }
}

// Message.fbs / Schema.fbs slot numbers.
const MESSAGE = { version: 0, headerType: 1, header: 2, bodyLength: 3, customMetadata: 4 };
const HEADER = { schema: 1, dictionaryBatch: 2, recordBatch: 3 };
const SCHEMA = { fields: 1, customMetadata: 2, features: 3 };
const FIELD = { name: 0, typeType: 2, type: 3, dictionary: 4, children: 5, customMetadata: 6 };
const TYPE_TIMESTAMP = 10;
const TYPE_UNION = 14;
const RECORD_BATCH = { length: 0, nodes: 1, buffers: 2, compression: 3, variadicCounts: 4 };
const FOOTER = { schema: 1, dictionaries: 2, recordBatches: 3, customMetadata: 4 };

function verifyKeyValues(fb: Flatbuffer, t: Table, slot: number, name: string): void {
  fb.tables(t, slot, name, (kv) => {
    fb.string(kv, 0, `${name} key`);
    fb.string(kv, 1, `${name} value`);
  });
}

/** Verifies a Field; returns the number of field nodes it takes in a record batch. */
function verifyField(fb: Flatbuffer, t: Table, name: string, depth: number): number {
  if (depth > MAX_DEPTH) fb.fail(`fields are nested more than ${MAX_DEPTH} levels deep (at ${name})`);
  fb.string(t, FIELD.name, `the name of ${name}`);
  const typeTypePos = fb.scalar(t, FIELD.typeType, 1, `the type of ${name}`);
  const typeType = typeTypePos === 0 ? 0 : fb.u8(typeTypePos);
  const typePos = fb.ref(t, FIELD.type, `the type of ${name}`);
  if (typePos !== 0) {
    const type = fb.table(typePos, `the type of ${name}`);
    if (typeType === TYPE_TIMESTAMP) fb.string(type, 1, `the timezone of ${name}`);
    if (typeType === TYPE_UNION) fb.vector(type, 1, 4, `the union type ids of ${name}`);
  }
  const dictPos = fb.ref(t, FIELD.dictionary, `the dictionary encoding of ${name}`);
  if (dictPos !== 0) {
    const dict = fb.table(dictPos, `the dictionary encoding of ${name}`);
    const indexPos = fb.ref(dict, 1, `the dictionary index type of ${name}`);
    if (indexPos !== 0) fb.table(indexPos, `the dictionary index type of ${name}`);
  }
  let nodes = 1;
  fb.tables(t, FIELD.children, `the children of ${name}`, (child, i) => {
    nodes += verifyField(fb, child, `${name}.child[${i}]`, depth + 1);
  });
  verifyKeyValues(fb, t, FIELD.customMetadata, `the metadata of ${name}`);
  // A dictionary-encoded column is one node (its indices); its children describe the dictionary.
  return dictPos !== 0 ? 1 : nodes;
}

/** Verifies a Schema; returns the field-node count of each top-level field. */
function verifySchema(fb: Flatbuffer, t: Table): number[] {
  const counts: number[] = [];
  fb.tables(t, SCHEMA.fields, "the schema's fields", (field, i) => {
    counts.push(verifyField(fb, field, `field ${i}`, 1));
  });
  verifyKeyValues(fb, t, SCHEMA.customMetadata, "the schema metadata");
  fb.vector(t, SCHEMA.features, 8, "the schema features");
  return counts;
}

/** Verifies a RecordBatch header against the schema's node counts and the body length. */
function verifyRecordBatch(fb: Flatbuffer, t: Table, bodyLength: number, schemaNodes: number[] | undefined, name: string): void {
  const lengthPos = fb.scalar(t, RECORD_BATCH.length, 8, `the length of ${name}`);
  const length = lengthPos === 0 ? 0 : fb.i64(lengthPos);
  if (!(length >= 0 && length <= MAX_ROWS)) fb.fail(`${name} declares ${length} rows (at most ${MAX_ROWS} are supported)`);
  const nodes = fb.vector(t, RECORD_BATCH.nodes, 16, `the field nodes of ${name}`) ?? [0, 0];
  const [nodeStart, nodeCount] = nodes;
  for (let i = 0; i < nodeCount; i++) {
    const len = fb.i64(nodeStart + 16 * i);
    const nulls = fb.i64(nodeStart + 16 * i + 8);
    if (!(len >= 0 && len <= MAX_ROWS)) fb.fail(`field node ${i} of ${name} declares ${len} values`);
    if (!(nulls >= 0 && nulls <= len)) fb.fail(`field node ${i} of ${name} declares ${nulls} nulls for ${len} values`);
  }
  if (schemaNodes !== undefined) {
    const expected = schemaNodes.reduce((a, b) => a + b, 0);
    if (nodeCount !== expected) fb.fail(`${name} has ${nodeCount} field nodes, the schema needs ${expected}`);
    let at = 0;
    schemaNodes.forEach((count, f) => {
      const len = fb.i64(nodeStart + 16 * at);
      if (len !== length) fb.fail(`column ${f} of ${name} has ${len} rows, the batch declares ${length}`);
      at += count;
    });
  }
  const buffers = fb.vector(t, RECORD_BATCH.buffers, 16, `the buffers of ${name}`);
  if (buffers !== undefined) {
    const [start, n] = buffers;
    for (let i = 0; i < n; i++) {
      const off = fb.i64(start + 16 * i);
      const len = fb.i64(start + 16 * i + 8);
      if (!(off >= 0 && len >= 0 && off + len <= bodyLength)) {
        fb.fail(`buffer ${i} of ${name} (bytes ${off}..${off + len}) lies outside the message body of ${bodyLength} bytes`);
      }
    }
  }
  const compression = fb.ref(t, RECORD_BATCH.compression, `the compression of ${name}`);
  if (compression !== 0) fb.table(compression, `the compression of ${name}`);
  fb.vector(t, RECORD_BATCH.variadicCounts, 8, `the variadic buffer counts of ${name}`);
}

interface MessageInfo {
  headerType: number;
  /** Field-node counts of the top-level fields, for a schema message. */
  schemaNodes?: number[];
  /** Bytes the message takes, framing and body included. */
  size: number;
}

/**
 * Verifies one framed message at `pos` (continuation marker, metadata length, Message flatbuffer,
 * body). Returns undefined at an end-of-stream marker.
 */
function verifyMessage(bytes: Uint8Array, pos: number, limit: number, schemaNodes: number[] | undefined, where: string): MessageInfo | undefined {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (what: string): never => {
    throw new ArrowFormatError(`${where}: ${what}`);
  };
  if (pos + 4 > limit) fail("it is truncated: a message header is cut off");
  let metaLen = dv.getInt32(pos, true);
  let metaStart = pos + 4;
  if (metaLen === -1) {
    if (pos + 8 > limit) fail("it is truncated: a message header is cut off");
    metaLen = dv.getInt32(pos + 4, true);
    metaStart = pos + 8;
  }
  if (metaLen === 0) return undefined;
  if (metaLen < 0) fail(`a message declares a negative metadata length ${metaLen}`);
  if (metaStart + metaLen > limit) fail(`it is truncated: a message's metadata needs ${metaLen} bytes, ${Math.max(0, limit - metaStart)} remain`);
  const fb = new Flatbuffer(bytes.subarray(metaStart, metaStart + metaLen), `${where}: corrupt message metadata at byte ${pos}`);
  const message = fb.root("the message");
  const headerTypePos = fb.scalar(message, MESSAGE.headerType, 1, "the message header type");
  const headerType = headerTypePos === 0 ? 0 : fb.u8(headerTypePos);
  const bodyPos = fb.scalar(message, MESSAGE.bodyLength, 8, "the body length");
  const bodyLength = bodyPos === 0 ? 0 : fb.i64(bodyPos);
  if (!(bodyLength >= 0)) fb.fail(`the message declares a body of ${bodyLength} bytes`);
  const bodyStart = metaStart + metaLen;
  if (bodyStart + bodyLength > limit) {
    fail(`it is truncated: a message body needs ${bodyLength} bytes, ${Math.max(0, limit - bodyStart)} remain`);
  }
  verifyKeyValues(fb, message, MESSAGE.customMetadata, "the message metadata");
  const headerPos = fb.ref(message, MESSAGE.header, "the message header");
  const info: MessageInfo = { headerType, size: bodyStart + bodyLength - pos };
  if (headerPos === 0) return info;
  const header = fb.table(headerPos, "the message header");
  if (headerType === HEADER.schema) info.schemaNodes = verifySchema(fb, header);
  else if (headerType === HEADER.recordBatch) verifyRecordBatch(fb, header, bodyLength, schemaNodes, "the record batch");
  else if (headerType === HEADER.dictionaryBatch) {
    const data = fb.ref(header, 1, "the dictionary batch data");
    if (data !== 0) verifyRecordBatch(fb, fb.table(data, "the dictionary batch data"), bodyLength, undefined, "the dictionary batch");
  } else fb.fail(`unsupported message type ${headerType} (expected a schema, record batch or dictionary batch)`);
  return info;
}

/** Verifies an IPC stream: every message up to the end-of-stream marker. */
export function verifyStream(bytes: Uint8Array, where: string): void {
  let pos = 0;
  let schemaNodes: number[] | undefined;
  let first = true;
  for (;;) {
    const info = verifyMessage(bytes, pos, bytes.byteLength, schemaNodes, where);
    if (info === undefined) {
      if (first) throw new ArrowFormatError(`${where}: the stream ends before its schema`);
      return;
    }
    if (first && info.headerType !== HEADER.schema) throw new ArrowFormatError(`${where}: the stream does not start with a schema message`);
    if (info.schemaNodes !== undefined) schemaNodes = info.schemaNodes;
    first = false;
    pos += info.size;
  }
}

/** Verifies an IPC file: the footer and the message of every block it lists. */
export function verifyFile(bytes: Uint8Array, where: string): void {
  const size = bytes.byteLength;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, size);
  const footerLength = dv.getInt32(size - 10, true);
  const footerStart = size - 10 - footerLength;
  if (!(footerLength > 0 && footerStart >= 8)) {
    throw new ArrowFormatError(`${where}: corrupt file footer: its declared length ${footerLength} does not fit the file`);
  }
  const fb = new Flatbuffer(bytes.subarray(footerStart, footerStart + footerLength), `${where}: corrupt file footer`);
  const footer = fb.root("the footer");
  const schemaPos = fb.ref(footer, FOOTER.schema, "the footer schema");
  if (schemaPos === 0) fb.fail("the footer has no schema");
  const schemaNodes = verifySchema(fb, fb.table(schemaPos, "the footer schema"));
  verifyKeyValues(fb, footer, FOOTER.customMetadata, "the footer metadata");
  const blocks = (slot: number, kind: string, expected: number): void => {
    const vec = fb.vector(footer, slot, 24, `the ${kind} blocks`);
    if (vec === undefined) return;
    const [start, n] = vec;
    for (let i = 0; i < n; i++) {
      const offset = fb.i64(start + 24 * i);
      const metaLen = fb.i32(start + 24 * i + 8);
      const bodyLength = fb.i64(start + 24 * i + 16);
      const end = offset + metaLen + bodyLength;
      if (!(offset >= 8 && metaLen > 0 && bodyLength >= 0 && end <= footerStart)) {
        fb.fail(`${kind} block ${i} (bytes ${offset}..${end}) lies outside the file's data (bytes 8..${footerStart})`);
      }
      const info = verifyMessage(bytes, offset, footerStart, schemaNodes, `${where}: ${kind} block ${i}`);
      if (info === undefined || info.headerType !== expected) fb.fail(`${kind} block ${i} does not hold a ${kind} message`);
    }
  };
  blocks(FOOTER.dictionaries, "dictionary batch", HEADER.dictionaryBatch);
  blocks(FOOTER.recordBatches, "record batch", HEADER.recordBatch);
}
