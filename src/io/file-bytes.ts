// The one place whole model files are read into memory. Parsers take the bytes as a view, so
// this function alone decides how they get there: files of MAP_THRESHOLD bytes and more are
// memory-mapped through the addon (pages load on first touch and stay in the page cache, shared
// with other processes; tensors are views of the mapping), smaller ones are read into one buffer.
import { constants as bufferConstants } from "node:buffer";
import * as fs from "node:fs";
import { describe } from "../tensor/dtype";
import { fsReason } from "./atomic";
import { addon } from "../backend/addon";

/** Files of at least this many bytes are memory-mapped by readFileBytes (64 MiB). */
export const MAP_THRESHOLD = 64 * 1024 * 1024;

const mapped = new WeakSet<ArrayBuffer>();

/** Whether `bytes` views a memory-mapped file (see readFileBytes). */
export function isMappedBytes(bytes: Uint8Array): boolean {
  return mapped.has(bytes.buffer as ArrayBuffer);
}

/**
 * Gives the memory pages of `view`, a part of mapped file bytes, back to the system (a loader
 * calls it for file data it has copied into another layout, so that the process does not hold
 * both). The bytes stay readable: a later read loads the pages again from the file. A no-op for
 * bytes that were read rather than mapped.
 */
export function releaseFilePages(view: Uint8Array): void {
  const buffer = view.buffer as ArrayBuffer;
  if (!mapped.has(buffer)) return;
  addon().releaseMappedPages(buffer, view.byteOffset, view.byteLength);
}

/**
 * Unmaps the file `bytes` views, at once (every view of it, tensors included, drops to length 0
 * and refuses further use). A no-op for bytes that were read rather than mapped, or already released.
 */
export function releaseFileBytes(bytes: Uint8Array): void {
  const buffer = bytes.buffer as ArrayBuffer;
  if (!mapped.has(buffer)) return;
  mapped.delete(buffer);
  addon().unmapFile(buffer);
}

// fs.readSync takes at most 2^31 - 1 bytes a call.
const READ_PIECE = 1 << 30;

/**
 * Reads a whole regular file into one buffer. The buffer is never a slice of Node's shared
 * pool: it starts at byte 0 of its own ArrayBuffer, so views of 2-, 4- and 8-byte values at
 * file offsets aligned to their size are aligned in memory too.
 *
 * @param filePath The file to read.
 * @param fn The public function reading, which starts every error message.
 * @param opts.map Map the file (true), read it (false), or decide by size (default: map from
 *   MAP_THRESHOLD bytes). A mapped file must not be truncated while its bytes are in use (the
 *   operating system would fault on the missing pages), the same rule as llama.cpp's.
 * @throws TypeError for a path that is not a non-empty string; Error `${fn}: cannot read
 *   '<path>': <reason>` when the file is missing, a directory, not a regular file, larger than
 *   one buffer can hold, unreadable, or changes size while being read.
 */
export function readFileBytes(filePath: string, fn: string, opts: { map?: boolean } = {}): Uint8Array {
  if (typeof filePath !== "string" || filePath.length === 0) throw new TypeError(`${fn}: path must be a non-empty string, received ${describe(filePath)}`);
  const cannot = (reason: string, cause?: unknown): Error => new Error(`${fn}: cannot read '${filePath}': ${reason}`, cause === undefined ? undefined : { cause });
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    fd = fs.openSync(filePath, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw cannot(fsReason(e), e);
  }
  try {
    let stat: fs.Stats;
    try {
      stat = fs.fstatSync(fd);
    } catch (e) {
      throw cannot(fsReason(e), e);
    }
    if (stat.isDirectory()) throw cannot(fsReason({ code: "EISDIR" }));
    if (!stat.isFile()) throw cannot("it is not a regular file");
    const size = stat.size;
    if (size > bufferConstants.MAX_LENGTH) throw cannot(`it is ${size} bytes, more than the ${bufferConstants.MAX_LENGTH} bytes one buffer can hold`);
    if (size > 0 && (opts.map ?? size >= MAP_THRESHOLD)) {
      let buffer: ArrayBuffer;
      try {
        buffer = addon().mapFile(filePath);
      } catch (e) {
        throw cannot((e as Error).message.replace(/^mapFile: /, ""), e);
      }
      mapped.add(buffer);
      return new Uint8Array(buffer);
    }
    const bytes = new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
    let done = 0;
    try {
      while (done < size) {
        const got = fs.readSync(fd, bytes, done, Math.min(size - done, READ_PIECE), done);
        if (got === 0) break;
        done += got;
      }
    } catch (e) {
      throw cannot(fsReason(e), e);
    }
    if (done < size) throw cannot(`it ended at byte ${done} of the ${size} it had when opened (was it truncated while being read?)`);
    return bytes;
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // nothing was written; the result (or the error being thrown) stands
    }
  }
}
