// `bitnet-lab kernel install | list | uninstall`: the kernelspec (kernel.json and logos) written
// where Jupyter looks for it, found the way jupyter_core does (JUPYTER_DATA_DIR, JUPYTER_PATH,
// platform defaults), without Python.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { writeFileAtomic } from "../src/runtime";

export const KERNEL_NAME = "bitnet-lab";

/** Where an install goes: the user's data dir, the active Python environment, or a prefix. */
export type InstallTarget = { kind: "user" } | { kind: "sys-prefix" } | { kind: "prefix"; prefix: string };

/** Jupyter's per-user data directory (jupyter_core.paths.jupyter_data_dir). */
export function userDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JUPYTER_DATA_DIR) return path.resolve(env.JUPYTER_DATA_DIR);
  const home = os.homedir();
  if (process.platform === "darwin") return path.join(home, "Library", "Jupyter");
  if (process.platform === "win32") return path.join(env.APPDATA ?? path.join(home, "AppData", "Roaming"), "jupyter");
  return path.join(env.XDG_DATA_HOME || path.join(home, ".local", "share"), "jupyter");
}

/** The active Python environment's prefix (virtualenv or conda), as `--sys-prefix` means it. */
function sysPrefix(env: NodeJS.ProcessEnv): string {
  const prefix = env.VIRTUAL_ENV || env.CONDA_PREFIX;
  if (!prefix) {
    throw new Error("kernel install --sys-prefix: no Python environment is active (neither VIRTUAL_ENV nor CONDA_PREFIX is set); use --user, or --prefix with the environment's path");
  }
  return prefix;
}

/** The kernels directory of an install target. */
export function kernelsDir(target: InstallTarget, env: NodeJS.ProcessEnv = process.env): string {
  switch (target.kind) {
    case "user":
      return path.join(userDataDir(env), "kernels");
    case "sys-prefix":
      return path.join(sysPrefix(env), "share", "jupyter", "kernels");
    case "prefix":
      return path.join(path.resolve(target.prefix), "share", "jupyter", "kernels");
  }
}

/** Every kernels directory Jupyter searches, in its order (jupyter_core.paths.jupyter_path). */
export function searchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  for (const p of (env.JUPYTER_PATH ?? "").split(path.delimiter)) if (p) dirs.push(path.resolve(p));
  dirs.push(userDataDir(env));
  const prefix = env.VIRTUAL_ENV || env.CONDA_PREFIX;
  if (prefix) dirs.push(path.join(prefix, "share", "jupyter"));
  if (process.platform === "win32") dirs.push(path.join(env.PROGRAMDATA ?? "C:\\ProgramData", "jupyter"));
  else dirs.push("/usr/local/share/jupyter", "/usr/share/jupyter");
  return [...new Set(dirs)].map((d) => path.join(d, "kernels"));
}

/** The kernel.json of this installation: this node and this package's launcher, absolute. */
export function kernelJson(packageRoot: string): Record<string, unknown> {
  const version = (JSON.parse(fs.readFileSync(path.join(packageRoot, "package.json"), "utf8")) as { version: string }).version;
  return {
    argv: [process.execPath, "--single-threaded-gc", path.join(packageRoot, "bin", "bitnet-lab.js"), "kernel", "run", "--connection-file", "{connection_file}"],
    display_name: "bitnet-lab (TypeScript)",
    language: "typescript",
    interrupt_mode: "signal",
    metadata: { "bitnet-lab": { version } },
  };
}

/** Installs the kernelspec; returns its directory. */
export function installKernelspec(packageRoot: string, target: InstallTarget, env: NodeJS.ProcessEnv = process.env): string {
  const dir = path.join(kernelsDir(target, env), KERNEL_NAME);
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic("kernel install", path.join(dir, "kernel.json"), [Buffer.from(JSON.stringify(kernelJson(packageRoot), null, 2) + "\n")]);
  for (const size of [32, 64]) writeFileAtomic("kernel install", path.join(dir, `logo-${size}x${size}.png`), [logoPng(size)]);
  return dir;
}

/** Removes the kernelspec from a target; returns the removed directory, or null if none was there. */
export function uninstallKernelspec(target: InstallTarget, env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = path.join(kernelsDir(target, env), KERNEL_NAME);
  if (!fs.existsSync(path.join(dir, "kernel.json"))) return null;
  fs.rmSync(dir, { recursive: true, force: true });
  return dir;
}

/** Every kernelspec Jupyter would see (first one of a name wins, as in Jupyter). */
export function listKernelspecs(env: NodeJS.ProcessEnv = process.env): { name: string; dir: string; ours: boolean }[] {
  const seen = new Map<string, { name: string; dir: string; ours: boolean }>();
  for (const kernels of searchPath(env)) {
    let names: string[];
    try {
      names = fs.readdirSync(kernels);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const file = path.join(kernels, name, "kernel.json");
      if (seen.has(name.toLowerCase()) || !fs.existsSync(file)) continue;
      let ours = false;
      try {
        ours = "bitnet-lab" in ((JSON.parse(fs.readFileSync(file, "utf8")) as { metadata?: object }).metadata ?? {});
      } catch {
        // An unreadable kernel.json is listed, not ours.
      }
      seen.set(name.toLowerCase(), { name, dir: path.dirname(file), ours });
    }
  }
  return [...seen.values()];
}

// ---- The logo: three bars for -1, 0, +1, written as a PNG without an image library. ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A size x size RGBA PNG: three rounded-looking bars (low, middle, high) on transparent. */
export function logoPng(size: number): Buffer {
  const colors = [[214, 69, 65], [140, 140, 140], [46, 134, 193]];
  const rows: Buffer[] = [];
  const barW = Math.floor(size / 4);
  const gap = Math.floor((size - 3 * barW) / 4);
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4); // filter byte 0, then RGBA
    for (let b = 0; b < 3; b++) {
      const height = Math.round(size * [0.35, 0.6, 0.9][b]);
      if (y < size - height) continue;
      const x0 = gap + b * (barW + gap);
      for (let x = x0; x < x0 + barW; x++) row.set([...colors[b], 255], 1 + 4 * x);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
