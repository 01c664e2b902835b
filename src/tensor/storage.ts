// Storage ownership and memory accounting.
//
// Tensor memory is native-owned: the addon allocates 64-byte aligned memory and hands it to JS as
// an external ArrayBuffer. dispose() detaches that buffer (all JS views of it drop to length 0,
// so nothing can touch freed memory) and frees it at once, instead of waiting for a GC that a
// tight training loop may not give us. bench/storage.ts measures this choice against plain
// JS-owned ArrayBuffers. Storage wrapped around a caller's typed array (Arrow columns) is
// "foreign": we never free it, we only stop counting it.
import { constants as bufferConstants } from "node:buffer";
import { totalmem } from "node:os";
import { addon } from "../backend/addon";
import { DType, storageBytes } from "./dtype";
import { formatShape } from "./shape";

export type StorageOwner = "native" | "foreign";

const stats = { liveTensors: 0, liveBytes: 0, peakBytes: 0, liveStorages: 0 };
// Bytes of native storage not yet released (disposed, or finalized after collection).
let nativeLiveBytes = 0;
// A loop that forgets tidy()/dispose() keeps its intermediates until it yields (finalizers
// cannot run inside synchronous code): without a ceiling the OS kills the process, and a notebook
// loses its state. 80% of physical memory by default.
let memoryLimit = Math.floor(totalmem() * 0.8);

/** Memory held by tensors, for leak checks in tests and notebooks. */
export interface MemoryStats {
  /** Tensors (views included) created and not yet disposed or collected. */
  liveTensors: number;
  /** Bytes of distinct storages still referenced by live tensors. */
  liveBytes: number;
  /** Largest liveBytes seen since start or the last resetPeakMemory(). */
  peakBytes: number;
  /** Distinct storages still referenced by live tensors. */
  liveStorages: number;
  /** Bytes the native allocator holds (includes storage awaiting GC of undisposed tensors). */
  nativeBytes: number;
  /** Freed blocks the native allocator keeps for reuse (up to 1 GiB, reused by exact size). */
  cachedBytes: number;
}

export function memoryStats(): MemoryStats {
  const native = addon().nativeMemory();
  return { ...stats, nativeBytes: native.liveBytes, cachedBytes: native.cachedBytes };
}

/** Restarts peak tracking from the current live bytes. */
export function resetPeakMemory(): void {
  stats.peakBytes = stats.liveBytes;
}

export function countTensor(delta: 1 | -1): void {
  stats.liveTensors += delta;
}

/**
 * Sets the ceiling on native tensor memory held at once (bytes; default 80% of physical memory).
 * An allocation past it is a RangeError naming the operation, instead of the operating system
 * killing the process. Returns the previous limit.
 */
export function setMemoryLimit(bytes: number): number {
  // 0 would refuse every allocation, the library's own included: not a limit anyone means.
  if (typeof bytes !== "number" || !Number.isSafeInteger(bytes) || bytes < 1) {
    throw new RangeError(`setMemoryLimit: bytes must be a positive safe integer, received ${String(bytes)}`);
  }
  const before = memoryLimit;
  memoryLimit = bytes;
  return before;
}

/** The current ceiling on native tensor memory (see setMemoryLimit). */
export function getMemoryLimit(): number {
  return memoryLimit;
}

/** The native allocator's own ceiling (kMaxAllocationBytes in native/src/core/allocator.h). */
const NATIVE_MAX_ALLOCATION_BYTES = 2 ** 40;

/**
 * The largest single tensor storage, in bytes: Node's buffer limit (buffer.constants.MAX_LENGTH,
 * which addon() passes to the native setBufferLimit) capped by the native allocator's ceiling.
 */
export function maxStorageBytes(): number {
  return Math.min(bufferConstants.MAX_LENGTH, NATIVE_MAX_ALLOCATION_BYTES);
}

/**
 * Bytes a contiguous tensor of `shape` and `dtype` needs; throws a RangeError naming `fn` and the
 * shape when that is more than one buffer may hold. The native allocator checks again (backstop).
 */
export function checkStorageBytes(fn: string, shape: readonly number[], dtype: DType): number {
  let numel = 1;
  for (const d of shape) numel *= d;
  const bytes = storageBytes(dtype, numel);
  const limit = maxStorageBytes();
  if (bytes > limit) {
    throw new RangeError(`${fn}: shape ${formatShape(shape)} needs ${bytes} bytes (${dtype}), more than the ${limit}-byte limit of one buffer`);
  }
  if (nativeLiveBytes + bytes > memoryLimit) {
    throw new RangeError(
      `${fn}: shape ${formatShape(shape)} needs ${bytes} bytes (${dtype}) but tensors already hold ${nativeLiveBytes} of the ${memoryLimit}-byte memory limit ` +
        `(${stats.liveTensors} live tensors); dispose what you no longer need, run loops inside tidy() (and noGrad() when not training), or raise it with setMemoryLimit()`,
    );
  }
  return bytes;
}

/**
 * Whether `buffer` was detached (transferred with postMessage/structuredClone, or
 * ArrayBuffer.prototype.transfer). Node 20 has no ArrayBuffer.prototype.detached, so a
 * zero-length buffer is probed by constructing an empty view on it, which only a detached
 * buffer refuses.
 */
export function isDetachedBuffer(buffer: ArrayBufferLike): boolean {
  const flag = (buffer as { detached?: unknown }).detached;
  if (typeof flag === "boolean") return flag;
  if (buffer.byteLength > 0) return false;
  if (typeof SharedArrayBuffer !== "undefined" && buffer instanceof SharedArrayBuffer) return false;
  try {
    new Uint8Array(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

export class Storage {
  private refs = 0;
  private freed = false;

  private constructor(
    readonly buffer: ArrayBuffer,
    readonly byteOffset: number,
    readonly byteLength: number,
    readonly owner: StorageOwner,
  ) {
    stats.liveStorages += 1;
    stats.liveBytes += byteLength;
    if (owner === "native") nativeLiveBytes += byteLength;
    if (stats.liveBytes > stats.peakBytes) stats.peakBytes = stats.liveBytes;
  }

  /** Fresh native storage; zeroed when `zero`. */
  static allocate(byteLength: number, zero: boolean): Storage {
    // alloc() validates byteLength again; callers name the public function first
    // (checkStorageBytes), so its message is only a backstop.
    return new Storage(addon().alloc(byteLength, zero), 0, byteLength, "native");
  }

  /** Storage over memory the caller owns (no copy). */
  static wrap(view: ArrayBufferView): Storage {
    return new Storage(view.buffer as ArrayBuffer, view.byteOffset, view.byteLength, "foreign");
  }

  get released(): boolean {
    return this.freed;
  }

  /** Tensors holding this storage. */
  get references(): number {
    return this.refs;
  }

  /**
   * Whether the memory is gone while still referenced: caller memory ("foreign") whose
   * ArrayBuffer was detached (transferred away) or shrunk (a resizable ArrayBuffer) below the
   * wrapped range. Reading it would make V8 throw (or see nothing), so Tensor checks this
   * before any op touches the memory or allocates an output.
   */
  get detached(): boolean {
    if (this.buffer.byteLength < this.byteOffset + this.byteLength) return true;
    return this.byteLength === 0 && isDetachedBuffer(this.buffer);
  }

  retain(): void {
    if (this.freed) throw new Error("tensor storage was already released (the tensor was disposed)");
    this.refs += 1;
  }

  /**
   * Drops one reference. The last one frees native memory immediately, unless the drop comes
   * from the garbage collector: then user views of the buffer may still be alive, and the
   * buffer's own finalizer frees the memory once they are gone.
   */
  release(fromGc: boolean): void {
    if (this.freed) return;
    this.refs -= 1;
    if (this.refs > 0) return;
    this.freed = true;
    stats.liveStorages -= 1;
    stats.liveBytes -= this.byteLength;
    if (this.owner === "native") nativeLiveBytes -= this.byteLength;
    if (this.owner === "native" && !fromGc) addon().free(this.buffer);
  }
}
