"""PyYAML's safe_load of each file named on the command line, as MessagePack on stdout: a list
with, per file, {"ok": value} or {"error": message}. Dates become their isoformat() text and
tuples lists, which is how lmstore stores them."""
import datetime
import sys

import msgpack
import yaml


def plain(v):
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return {plain(k): None for k in sorted(v)}
    if isinstance(v, dict):
        return {plain(k): plain(x) for k, x in v.items()}
    return v


out = []
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as f:
            out.append({"ok": plain(yaml.safe_load(f.read()))})
    except Exception as e:  # every PyYAML refusal is compared as "it refused"
        out.append({"error": str(e)})
sys.stdout.buffer.write(msgpack.packb(out, use_bin_type=True))
