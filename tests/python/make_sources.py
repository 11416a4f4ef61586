"""Writes migration sources the way the originals did (seed-formats.md §3 and §4: py-lmdb with
writemap=True and max_dbs=10, values from msgpack.packb(..., use_bin_type=True)), with their
quirks, and next to each an expected.msgpack holding what was written, for the Rust tests.

usage: make_sources.py promptlightning DIR
       make_sources.py tkr DIR [SESSIONS MESSAGES_PER_SESSION]   (the benchmark's scale knob)
"""
import os
import random
import sys
import time
import uuid

import lmdb
import msgpack


def pack(v):
    return msgpack.packb(v, use_bin_type=True)


def promptlightning(path):
    env = lmdb.open(path, max_dbs=10, writemap=True)
    templates = env.open_db(b"templates")
    index = env.open_db(b"version_index")
    meta = env.open_db(b"metadata")
    saves = 0

    def save(spec):
        # LMDBRegistry.save: one record per id (the old version's content is overwritten), the
        # version key stays, the count counts saves.
        nonlocal saves
        with env.begin(write=True) as txn:
            txn.put(spec["id"].encode(), pack(spec), db=templates)
            txn.put(f"{spec['id']}:{spec['version']}".encode(), spec["id"].encode(), db=index)
            saves += 1
            txn.put(b"count", pack(saves), db=meta)
            txn.put(b"last_modified", pack(1_747_000_000 + saves), db=meta)

    def spec(id, version, text, **kw):
        s = {"id": id, "version": version, "description": kw.get("description"),
             "template": text, "inputs": kw.get("inputs", {}), "metadata": kw.get("metadata", {})}
        return s

    save(spec("summarizer", "1.0.0", "Summarize {{ text }}",
              inputs={"text": {"type": "string", "required": True, "default": None}}))
    save(spec("summarizer", "1.1.0", "Summarize in 3 bullets:\n{{ text }}\n",
              description="bullets", inputs={"text": {"type": "string", "required": True, "default": None},
                                             "n": {"type": "number", "required": False, "default": 3}},
              metadata={"tags": ["a", "b"], "owner": "ops"}))
    # Saved twice, identical: the count moves, nothing else.
    save(spec("greeter", "0.1.0", "Hello {{ name }} 👋 שלום 你好\r\n\tbye"))
    save(spec("greeter", "0.1.0", "Hello {{ name }} 👋 שלום 你好\r\n\tbye"))
    save(spec("nodesc", "2.0", "x", metadata={"nested": {"k": [1, 2.5, None, True]}}))
    # An orphan version key: its template record is gone (deleted by hand or by another tool).
    with env.begin(write=True) as txn:
        txn.put(b"ghost:9.9.9", b"ghost", db=index)
    env.close()
    expected = {
        "latest": {"summarizer": "1.1.0", "greeter": "0.1.0", "nodesc": "2.0"},
        "lost": [["ghost", "9.9.9"], ["summarizer", "1.0.0"]],
        "count": saves,
    }
    with open(path.rstrip("/") + ".expected.msgpack", "wb") as f:
        f.write(pack(expected))


def micros(text):
    """What lmstore must store as the timestamp: naive means UTC."""
    import datetime
    dt = datetime.datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return (dt - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)) // datetime.timedelta(microseconds=1)


def iso(t, shape):
    """The three shapes of §4: naive with µs, naive without fraction, aware."""
    import datetime
    dt = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    if shape == 0:
        return dt.replace(tzinfo=None).isoformat(timespec="microseconds")
    if shape == 1:
        return dt.replace(tzinfo=None, microsecond=0).isoformat()
    return dt.isoformat(timespec="microseconds")


def tkr(path, n_sessions=4, per_session=12):
    big = n_sessions > 100
    env = lmdb.open(path, max_dbs=10, writemap=True, map_size=(64 << 30) if big else 10485760)
    dbs = {name: env.open_db(name.encode(), dupsort=name.endswith(("_by_session", "_by_agent")) or name == "task_agents")
           for name in ["sessions", "messages", "message_by_session", "message_by_agent",
                        "agent_cards", "shared_contexts", "context_by_session", "a2a_tasks", "task_agents"]}
    rnd = random.Random(7)
    expected = {"sessions": {}, "messages": [], "ts": [], "session_ts": {}, "side": {}}
    texts = [
        "plain text",
        "日本語のテキスト\r\nעברית מימין לשמאל\tand emoji 👩‍👩‍👧‍👦 🏳️‍🌈",
        "line1\r\nline2\r\n\ttabbed",
        "x" * 14 * 1024,  # overflow pages
    ]
    base = 1_747_130_499.395424
    txn = env.begin(write=True)
    pending = 0
    for s in range(n_sessions):
        sid = f"sess-{s:05d}" if s else "sess:with:colons"
        created = iso(base + s, s % 3)
        session = {"id": sid, "title": None if s == 1 else f"Session {s} ✨",
                   "created_at": created, "updated_at": iso(base + s + 5, 2),
                   "session_type": "chat" if s % 2 == 0 else "agent",
                   "session_metadata": {"owner": "u1", "tags": ["x"], "n": s}}
        txn.put(sid.encode(), pack(session), db=dbs["sessions"])
        if not big:
            expected["sessions"][sid] = session
            expected["session_ts"][sid] = micros(created)
        prev = None
        for m in range(per_session):
            t = base + s * 100_000 + m * 2  # seconds apart: the shapes cannot swap key order
            shape = (m + s) % 3
            created_at = iso(t, shape)
            mid = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
            msg = {"message_uuid": mid, "session_id": sid,
                   "type": ["user", "agent", "system", "error", "task"][m % 5],
                   "parts": [{"type": "text", "content": texts[m % len(texts)] if not big else f"message {m} of {sid}"}],
                   "message_metadata": {"socket_id": f"sock-{m}"}, "in_reply_to": prev,
                   "created_at": created_at}
            if m % 4 == 0:
                msg["agent_id"] = "agent-a"
            elif m % 4 == 1:
                msg["agent_id"] = None  # nil, as opposed to absent (m % 4 >= 2)
            if m % 3 == 0:
                msg["role"] = "initiator"
            if m % 5 == 2:
                msg["parts"] = [{"type": "text", "content": "part one"},
                                {"type": "json", "content": {"k": [1, 2]}},
                                {"type": "text", "content": "part two"}]
                msg["message_metadata"]["in_reply_to"] = "socket-level-reply"
                msg["context_refs"] = ["ctx-1"]
                msg["capabilities_used"] = ["search"]
                msg["updated_at"] = iso(t + 1, 2)
            if m % 7 == 3:
                msg["in_reply_to"] = None
            key = f"{sid}:{created_at}:{mid}"
            txn.put(key.encode(), pack(msg), db=dbs["messages"])
            txn.put(f"{sid}:{created_at}".encode(), pack(mid), db=dbs["message_by_session"])
            if msg.get("agent_id"):
                txn.put(f"{msg['agent_id']}:{created_at}".encode(), pack(mid), db=dbs["message_by_agent"])
            if not big:
                expected["messages"].append(msg)
                expected["ts"].append(micros(created_at))
            prev = mid
            pending += 1
            if pending % 50_000 == 0:
                txn.commit()
                txn = env.begin(write=True)
    side = {"agent_cards": 0, "shared_contexts": 0, "context_by_session": 0, "a2a_tasks": 0, "task_agents": 0}
    for a in ["agent-a", "agent-b"]:
        card = {"id": a, "name": a.upper(), "description": "d", "color": "#fff", "icon_path": None,
                "is_active": True, "capabilities": ["chat"], "config": {"temperature": 0.2},
                "created_at": iso(base, 0)}
        if a == "agent-b":
            card["updated_at"] = iso(base, 2)
        txn.put(a.encode(), pack(card), db=dbs["agent_cards"])
        side["agent_cards"] += 1
    ctx = {"id": "ctx-1", "session_id": None, "source_agent_id": "agent-a", "target_agent_id": "agent-b",
           "context_type": "handoff", "content": {"summary": "s"}, "context_metadata": {},
           "expires_at": None, "created_at": iso(base, 1)}
    txn.put(b"ctx-1", pack(ctx), db=dbs["shared_contexts"])
    txn.put(f"sess-00001:{iso(base, 1)}".encode(), pack("ctx-1"), db=dbs["context_by_session"])
    side["shared_contexts"] += 1
    side["context_by_session"] += 1
    task = {"id": "task-1", "session_id": "sess-00002", "title": "t", "description": "d", "status": "done",
            "priority": 1, "config": {}, "context": {}, "created_at": iso(base, 2), "result": {"ok": True}}
    txn.put(b"task-1", pack(task), db=dbs["a2a_tasks"])
    side["a2a_tasks"] += 1
    for a in ["agent-a", "agent-b"]:
        txn.put(f"task-1:{a}".encode(), b"1", db=dbs["task_agents"])
        side["task_agents"] += 1
    txn.commit()
    env.close()
    expected["side"] = side
    with open(path.rstrip("/") + ".expected.msgpack", "wb") as f:
        f.write(pack(expected))


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    os.makedirs(path, exist_ok=True)
    if kind == "promptlightning":
        promptlightning(path)
    else:
        args = [int(x) for x in sys.argv[3:5]]
        tkr(path, *args)
