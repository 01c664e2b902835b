// The Jupyter wire protocol (messaging 5.3): multipart ZeroMQ messages
//   [identities..., "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers...]
// signed with HMAC-SHA256 over the four JSON frames. Parsing never throws: a bad message comes
// back as a reason, so the kernel can log it and drop it without dying.
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

export const PROTOCOL_VERSION = "5.3";
const DELIMITER = "<IDS|MSG>";

/** A message header. */
export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
  [key: string]: unknown;
}

/** A decoded message. */
export interface Message {
  /** Routing identities of the sender (ROUTER sockets), kept to address the reply. */
  identities: Buffer[];
  header: Header;
  parent_header: Partial<Header>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  buffers: Buffer[];
}

/** HMAC-SHA256 signing and checking with the connection file's key (an empty key disables it). */
export class Signer {
  readonly #key: string;
  constructor(key: string, scheme = "hmac-sha256") {
    if (key !== "" && scheme !== "hmac-sha256") throw new RangeError(`unsupported signature_scheme '${scheme}' (expected 'hmac-sha256')`);
    this.#key = key;
  }

  sign(parts: readonly (string | Buffer)[]): string {
    if (this.#key === "") return "";
    const h = createHmac("sha256", this.#key);
    for (const p of parts) h.update(p);
    return h.digest("hex");
  }

  verify(signature: string, parts: readonly Buffer[]): boolean {
    if (this.#key === "") return true;
    const want = Buffer.from(this.sign(parts), "utf8");
    const got = Buffer.from(signature, "utf8");
    return want.length === got.length && timingSafeEqual(want, got);
  }
}

/** Decodes a multipart message: the message, or why it was dropped. */
export function decode(frames: readonly Buffer[], signer: Signer): { message: Message } | { error: string } {
  const at = frames.findIndex((f) => f.length === DELIMITER.length && f.toString("latin1") === DELIMITER);
  if (at < 0) return { error: "no <IDS|MSG> delimiter" };
  if (frames.length < at + 6) return { error: `${frames.length - at - 1} frames after the delimiter (expected at least 5)` };
  const [signature, header, parent, metadata, content] = frames.slice(at + 1, at + 6);
  if (!signer.verify(signature.toString("utf8"), [header, parent, metadata, content])) return { error: "bad signature" };
  const parsed: Record<string, unknown>[] = [];
  for (const [name, frame] of [["header", header], ["parent_header", parent], ["metadata", metadata], ["content", content]] as const) {
    let v: unknown;
    try {
      v = JSON.parse(frame.toString("utf8"));
    } catch (e) {
      return { error: `${name} is not JSON (${(e as Error).message})` };
    }
    if (v === null || typeof v !== "object" || Array.isArray(v)) return { error: `${name} is not a JSON object` };
    parsed.push(v as Record<string, unknown>);
  }
  const h = parsed[0];
  if (typeof h.msg_type !== "string" || typeof h.msg_id !== "string") return { error: "header lacks msg_type or msg_id" };
  return {
    message: {
      identities: frames.slice(0, at).map((f) => Buffer.from(f)),
      header: { session: "", username: "", date: "", version: PROTOCOL_VERSION, ...(h as object) } as Header,
      parent_header: parsed[1] as Partial<Header>,
      metadata: parsed[2],
      content: parsed[3],
      buffers: frames.slice(at + 6).map((f) => Buffer.from(f)),
    },
  };
}

/** Frames of a message (identities first, signed). */
export function encode(
  signer: Signer,
  identities: readonly Buffer[],
  header: Header,
  parent: Partial<Header>,
  content: unknown,
  metadata: Record<string, unknown> = {},
): Buffer[] {
  const parts = [JSON.stringify(header), JSON.stringify(parent), JSON.stringify(metadata), JSON.stringify(content)].map((s) => Buffer.from(s, "utf8"));
  return [...identities, Buffer.from(DELIMITER, "latin1"), Buffer.from(signer.sign(parts), "utf8"), ...parts];
}

/** A fresh header of our session. */
export function header(msgType: string, session: string, username = "kernel"): Header {
  return { msg_id: randomUUID(), session, username, date: new Date().toISOString(), msg_type: msgType, version: PROTOCOL_VERSION };
}
