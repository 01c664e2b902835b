// The one place whole model files are read into memory. Parsers take the bytes as a view, so
// this function alone decides how they get there (today a read into one buffer; later a memory
// map for multi-gigabyte files) and every caller gets that change.
import { constants as bufferConstants } from "node:buffer";
import * as fs from "node:fs";
import { describe } from "../tensor/dtype";
import { fsReason } from "./atomic";

// fs.readSync takes at most 2^31 - 1 bytes a call.
const READ_PIECE = 1 << 30;

/**
 * Reads a whole regular file into one buffer. The buffer is never a slice of Node's shared
 * pool: it starts at byte 0 of its own ArrayBuffer, so views of 2-, 4- and 8-byte values at
 * file offsets aligned to their size are aligned in memory too.
 *
 * @param filePath The file to read.
 * @param fn The public function reading, which starts every error message.
 * @throws TypeError for a path that is not a non-empty string; Error `${fn}: cannot read
 *   '<path>': <reason>` when the file is missing, a directory, not a regular file, larger than
 *   one buffer can hold, unreadable, or changes size while being read.
 */
export function readFileBytes(filePath: string, fn: string): Uint8Array {
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
