"""Benchmark helper for scripts/bench-render.sh: writes the corpus cases that render without
error in both renderers (template, inputs, variables as MessagePack) and times Python Jinja2
with the reference coercion on each (compiled template cached, as promptlightning's registry
keeps it): min over batches of the per-render time, in nanoseconds.

usage: bench.py CORPUS_OUT.msgpack PYTHON_TIMES_OUT.json [SECONDS_PER_CASE]"""
import copy
import json
import os
import sys
import time

import msgpack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import reference  # noqa: E402
from known import KNOWN  # noqa: E402


def time_case(template, inputs, variables, budget):
    compiled = reference.ENV.from_string(template)

    def once():
        compiled.render(**reference.coerce(inputs, variables))

    for _ in range(20):
        once()
    best = float("inf")
    deadline = time.perf_counter() + budget
    n = 50
    while time.perf_counter() < deadline:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            once()
        best = min(best, (time.perf_counter_ns() - t0) / n)
    return best


def main():
    out_corpus, out_times = sys.argv[1], sys.argv[2]
    budget = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
    cases = []
    for name, template, inputs, variables in corpus.build():
        if name in KNOWN or "append" in template or ".pop(" in template or ".insert(" in template:
            continue  # mutating renders are not repeatable
        kind, _ = reference.render(template, inputs, copy.deepcopy(variables))
        if kind != "ok":
            continue
        cases.append({"name": name, "template": template, "inputs": inputs,
                      "vars": msgpack.packb(variables, use_bin_type=True)})
    times = {c["name"]: time_case(c["template"], c["inputs"], msgpack.unpackb(c["vars"]), budget)
             for c in cases}
    with open(out_corpus, "wb") as f:
        f.write(msgpack.packb(cases, use_bin_type=True))
    with open(out_times, "w") as f:
        json.dump(times, f)
    print(f"python: {len(cases)} cases timed")


if __name__ == "__main__":
    main()
