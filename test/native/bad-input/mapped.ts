// Bad-input cases of native/src/binding/mapped.cc.
import assert from "node:assert/strict";
import { addon } from "../../../src/backend/addon";
import { Binding, raw, esc, msg } from "./harness";

export const TABLE: Record<string, Binding> = {
  mapFile: {
    riskyExtras: false,
    signature: "mapFile(path)",
    required: 1,
    params: [{ name: "path", kind: "string", expected: "a string", valid: () => __filename }],
    extra: () => {
      const fn = "mapFile";
      return [
        { label: "an empty path", call: () => raw[fn](""), error: RangeError, message: msg(fn, "path", "a non-empty path", "''") },
        { label: "a NUL in the path", call: () => raw[fn]("a\u0000b"), error: RangeError, message: msg(fn, "path", "a path without NUL characters", "a string with a NUL") },
        { label: "a missing file", call: () => raw[fn]("/nonexistent/bitnet-lab"), error: Error, message: /^mapFile: cannot open '\/nonexistent\/bitnet-lab': No such file or directory$/ },
        { label: "a directory", call: () => raw[fn]("/"), error: Error, message: /^mapFile: '\/' is not a regular file$/ },
      ];
    },
    valid: () => {
      const b = addon().mapFile(__filename);
      assert.equal(Buffer.from(b).toString("utf8"), require("node:fs").readFileSync(__filename, "utf8"));
      assert.equal(addon().unmapFile(b), true);
      assert.equal(b.byteLength, 0);
      assert.equal(addon().unmapFile(b), false, "a second unmap is a no-op");
    },
  },

  unmapFile: {
    riskyExtras: true,
    signature: "unmapFile(buffer)",
    required: 1,
    params: [{ name: "buffer", kind: "buffer", expected: "an ArrayBuffer", valid: () => addon().mapFile(__filename) }],
    extra: () => {
      const fn = "unmapFile";
      return [
        { label: "a plain ArrayBuffer", call: () => raw[fn](new ArrayBuffer(8)), error: TypeError, message: msg(fn, "buffer", esc("an ArrayBuffer returned by mapFile()"), "ArrayBuffer(8)") },
        { label: "an alloc() buffer", call: () => raw[fn](addon().alloc(64, false)), error: TypeError, message: msg(fn, "buffer", esc("an ArrayBuffer returned by mapFile()"), "ArrayBuffer(64)") },
      ];
    },
    valid: () => {
      const b = addon().mapFile(__filename);
      const view = new Uint8Array(b);
      assert.ok(view.length > 0);
      addon().unmapFile(b);
      assert.equal(view.length, 0);
    },
  },

  releaseMappedPages: {
    riskyExtras: true,
    signature: "releaseMappedPages(buffer, byteOffset, byteLength)",
    required: 3,
    params: [
      { name: "buffer", kind: "buffer", expected: "an ArrayBuffer", valid: () => addon().mapFile(__filename) },
      { name: "byteOffset", kind: "number", expected: "a number", valid: () => 0, range: [0, 2 ** 52] },
      { name: "byteLength", kind: "number", expected: "a number", valid: () => 1, range: [0, 2 ** 52] },
    ],
    extra: () => {
      const fn = "releaseMappedPages";
      const live = "a live ArrayBuffer returned by mapFile\\(\\)";
      return [
        { label: "a plain ArrayBuffer", call: () => raw[fn](new ArrayBuffer(8), 0, 1), error: TypeError, message: msg(fn, "buffer", live, "ArrayBuffer(8)") },
        {
          label: "an unmapped buffer",
          call: () => {
            const b = addon().mapFile(__filename);
            addon().unmapFile(b);
            return raw[fn](b, 0, 1);
          },
          error: TypeError,
          message: new RegExp(`^${fn}: argument 'buffer' must be ${live}`),
        },
        {
          label: "a range past the end",
          call: () => {
            const b = addon().mapFile(__filename);
            return raw[fn](b, b.byteLength, 1);
          },
          error: RangeError,
          message: new RegExp(`^${fn}: argument 'byteLength' must be at most 0 \\(the mapping's \\d+ bytes from byteOffset\\), received 1$`),
        },
      ];
    },
    valid: () => {
      const b = addon().mapFile(__filename);
      const text = Buffer.from(b).toString("utf8");
      addon().releaseMappedPages(b, 0, b.byteLength);
      assert.equal(Buffer.from(b).toString("utf8"), text, "released pages read back from the file");
      addon().unmapFile(b);
    },
  },

};
