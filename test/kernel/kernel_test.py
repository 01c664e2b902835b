"""jupyter_kernel_test's conformance checks against the bitnet-lab kernel.

Run by test/kernel/conformance.test.ts with Debian's /usr/bin/python3 and JUPYTER_PATH pointing
at a kernelspec installed for the test. Every check the framework offers is filled in.
"""
import unittest

import jupyter_kernel_test as jkt


class BitnetLabKernelTests(jkt.KernelTests):
    kernel_name = "bitnet-lab"
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("to stderr")'

    completion_samples = [
        {"text": "Math.ab", "matches": {"abs"}},
        {"text": "const someLongName = 1; someLongN", "matches": {"someLongName"}},
    ]

    complete_code_samples = ["1 + 1", "const a = 1;", "function f(x: number) { return x; }"]
    incomplete_code_samples = ["function f(x: number) {", "const b = (", "[1, 2,"]
    invalid_code_samples = ["1 +* 2", ")", "const = 5"]

    code_page_something = "?Math.max"

    code_generate_error = 'throw new Error("boom")'

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"ab" + "cd"', "result": "abcd"},
        {"code": "[1, 2, 3].length", "result": "3"},
    ]

    code_display_data = [
        {
            "code": 'import { display } from "bitnet-lab";\nawait display({ [Symbol.for("jupyter.mimebundle")]: () => ({ "text/plain": "x", "text/html": "<b>x</b>" }) });',
            "mime": "text/html",
        },
    ]

    code_history_pattern = "6 *"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "Math.max"

    code_clear_output = 'import { clearOutput } from "bitnet-lab";\nclearOutput();'


if __name__ == "__main__":
    unittest.main()
