"""Differential test: every corpus case rendered by the Python reference (real Jinja2 3.1 and
PyYAML, tests/render/reference.py) and by lmstore's C ABI (lms_render_preview through ctypes);
the bytes must be identical and the error kind the same, the message too where seed-formats.md
§2 gives it. Cases that cannot match are listed with their reason in KNOWN (and docs/render.md)
and reported on every run; an unlisted mismatch fails. Then the `yaml` filter against PyYAML's
CSafeDumper on random nested values (RENDER_YAML_CASES, default 400; RENDER_SEED).

usage: diff.py LIBRARY.so"""
import copy
import ctypes
import os
import random
import re
import sys

import msgpack
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import reference  # noqa: E402
from known import KNOWN  # noqa: E402

LMS_INPUT, LMS_RENDER = 16, 17


class Lib:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.lms_render_preview.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
            ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)]
        self.lib.lms_last_error.restype = ctypes.c_char_p
        self.lib.lms_bytes_free.argtypes = [ctypes.c_void_p, ctypes.c_size_t]

    def render(self, template, inputs, variables):
        spec = msgpack.packb({"id": "case", "version": "1", "template": template,
                              "inputs": inputs}, use_bin_type=True)
        packed = msgpack.packb(variables, use_bin_type=True)
        out, n = ctypes.c_void_p(), ctypes.c_size_t()
        rc = self.lib.lms_render_preview(spec, len(spec), packed, len(packed),
                                         ctypes.byref(out), ctypes.byref(n))
        if rc == 0:
            text = ctypes.string_at(out, n.value).decode("utf-8")
            self.lib.lms_bytes_free(out, n.value)
            return "ok", text
        msg = self.lib.lms_last_error().decode("utf-8", "replace")
        kind = {LMS_INPUT: "input", LMS_RENDER: "render"}.get(rc, f"status {rc}")
        return kind, msg


# The render errors whose words seed-formats.md §2 gives; their reasons must match exactly.
SPECIFIED = re.compile(r"is undefined|has no attribute|has no element|is not iterable|"
                       r"division by zero|modulo by zero|float modulo")
SUFFIX = re.compile(r" \(template '.*' version '.*'(, line \d+)?\)$")


def same(ref, got):
    if ref[0] != got[0]:
        return False
    if ref[0] == "ok" or ref[0] == "input":
        return ref[1] == got[1]
    if SPECIFIED.search(ref[1]):
        return SUFFIX.sub("", got[1]) == ref[1]
    return True


def run_corpus(lib):
    cases = corpus.build()
    names = [c[0] for c in cases]
    dupes = {n for n in names if names.count(n) > 1}
    assert not dupes, f"duplicate case names: {sorted(dupes)}"
    passed, known_hit, failures, fixed = 0, [], [], []
    for name, template, inputs, variables in cases:
        # The reference may change lists in its variables (append); lmstore gets the originals.
        ref = reference.render(template, inputs, copy.deepcopy(variables))
        got = lib.render(template, inputs, variables)
        ok = same(ref, got)
        if ok and name not in KNOWN:
            passed += 1
        elif ok:
            fixed.append(name)
            passed += 1
        elif name in KNOWN:
            known_hit.append(name)
        else:
            failures.append((name, template, ref, got))
    for name, template, ref, got in failures:
        print(f"MISMATCH {name}\n  template: {template!r}\n  jinja2:   {ref!r}\n"
              f"  lmstore:  {got!r}")
    for name in known_hit:
        print(f"known mismatch {name}: {KNOWN[name]}")
    for name in fixed:
        print(f"note: {name} is listed in KNOWN but now matches; remove it from the list")
    stale = set(KNOWN) - set(names)
    for name in sorted(stale):
        print(f"KNOWN lists {name}, which is not in the corpus")
    print(f"render corpus: {len(cases)} cases, {passed} identical, {len(known_hit)} known "
          f"mismatches (docs/render.md), {len(failures)} unexpected")
    return len(failures) + len(stale) + len(fixed)


def random_scalar(rng):
    pick = rng.random()
    if pick < 0.5:
        parts = ["a", "b", "key", ":", ": ", " ", "'", '"', "#", "-", "- ", "?", "yes", "no",
                 "null", "~", "1", "0.5", "1e3", "😀", "日本", "\u0085", "\u2028", "\n", "\t",
                 "\\", "&", "*", "!", "|", ">", "%", "@", "`", "{", "}", "[", "]", ",", "é",
                 "0x1f", "2024-01-02", "=", "<<", "\r", "\x07", "\ufeff", "on", "Off"]
        n = rng.choice([0, 1, 1, 2, 3, 5, 12, 40])
        s = "".join(rng.choice(parts) for _ in range(n))
        if rng.random() < 0.1:
            s = " " * rng.randint(1, 3) + s
        if rng.random() < 0.05:
            s = "word " * rng.randint(10, 30)
        return s
    if pick < 0.65:
        return rng.choice([0, 1, -1, 7, 2**31, -(2**53), 10**15])
    if pick < 0.8:
        return rng.choice([0.0, 1.5, -2.25, 1e16, 1e-7, 3.14159, 1e300, float("inf"), -0.0,
                           100.0, 0.1])
    if pick < 0.9:
        return rng.choice([True, False])
    return None


def random_value(rng, depth=0):
    if depth > 3 or rng.random() < 0.3:
        return random_scalar(rng)
    if rng.random() < 0.5:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    out = {}
    for _ in range(rng.randint(0, 4)):
        key = random_scalar(rng)
        if not isinstance(key, str):
            key = str(key)
        if rng.random() < 0.05:
            key = "k" * rng.randint(120, 140)
        out[key] = random_value(rng, depth + 1)
    return out


def run_yaml(lib, count, seed):
    rng = random.Random(seed)
    bad = 0
    for i in range(count):
        value = random_value(rng)
        if not isinstance(value, (list, dict)):
            value = [value]
        want = yaml.dump(value, Dumper=yaml.CSafeDumper, sort_keys=False,
                         allow_unicode=True).rstrip()
        got = lib.render("{{ v.v|yaml }}", {"v": {"type": "object"}}, {"v": {"v": value}})
        if got != ("ok", want):
            bad += 1
            if bad <= 10:
                print(f"YAML MISMATCH #{i}: value {value!r}\n  pyyaml:  {want!r}\n"
                      f"  lmstore: {got!r}")
    print(f"yaml filter vs CSafeDumper: {count} random values (seed {seed}), {count - bad} "
          f"identical, {bad} different")
    return bad


def main():
    lib = Lib(sys.argv[1])
    failed = run_corpus(lib)
    failed += run_yaml(lib, int(os.environ.get("RENDER_YAML_CASES", "400")),
                       int(os.environ.get("RENDER_SEED", "8")))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
