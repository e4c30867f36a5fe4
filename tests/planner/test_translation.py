"""The trained model's answers read back (translation.py), its adapter checked (adapter.py),
and the planner's order: exact syntax, templates, then the model. No model is loaded: a
fake runtime answers what each test says it answers."""
from __future__ import annotations

import json
import os

import pytest

from llmos_init.planner import adapter as A
from llmos_init.planner.parser import Context
from llmos_init.planner.planner import Planner
from llmos_init.planner.parser import parse_shell
from llmos_init.planner import translation as T
from llmos_init.planner.translation import VERBS, grammar, read_answer

D = "/data"


def plan_of(answer, request, cwd=D, actions=()):
    return read_answer(answer, request, Context(cwd=cwd, actions=list(actions))).plan


def test_commands_become_the_plan_they_stand_for():
    assert plan_of("ls photos", "show me everything in the photos dir") == [
        {"tool": "list_dir", "args": {"path": "/data/photos"}}]
    assert plan_of("cd docs\nrm old.log", "go into docs and get rid of old.log") == [
        {"tool": "change_dir", "args": {"path": "/data/docs"}},
        {"tool": "remove", "args": {"path": "/data/docs/old.log"}}]
    assert plan_of("echo 'a; b && c' > x.txt", "put a; b && c into x.txt") == [
        {"tool": "write_file", "args": {"path": "/data/x.txt", "text": "a; b && c"}}]


def test_a_pattern_written_as_such_is_the_requests():
    # its dots and stars are the pattern's own ("*.tar.gz" after "subtree:")
    assert plan_of("find . -name '*.tar.gz'", "all files matching the pattern, in this subtree: *.tar.gz") == [
        {"tool": "find_files", "args": {"pattern": "*.tar.gz", "path": "/data"}}]
    assert plan_of("find . -name '*.log'", "find files matching *.log.") == [
        {"tool": "find_files", "args": {"pattern": "*.log", "path": "/data"}}]
    assert plan_of("find . -name '*.log'", "find files matching x*.log") is None
    assert plan_of("find . -name '*.c'", "find the core* files") is None


def test_no_command_is_an_empty_plan():
    from llmos_init.planner.canonical import NO_COMMAND
    assert plan_of(NO_COMMAND, "hello, who are you?") == []


@pytest.mark.parametrize("answer,req", [
    ("rm secret.txt", "get rid of old.log"),                 # a file the user never named
    ("kill 4242", "stop the process with id 42"),            # a pid the user never gave
    ("echo 'rm -rf /' > x.txt", "write hello into x.txt"),   # a text the user never wrote
    ("pkill sshd", "stop the web server"),
    ("ifdown eth1", "take eth0 down"),
    ("hostname evil", "rename this box to alpha"),
    ("date -s '2030-01-01 00:00'", "set the clock to 2025-01-02 10:00"),
    ("/bin/reboot-all", "run ./backup.sh"),
    ("format the disk", "wipe the disk"),                    # not a command at all
    ("rm", "delete it"),                                     # a command that needs more
    ("", "anything"),
    ("mv .txt archive", "move a.txt to archive"),            # a piece of a word is not a name
    ("rm note", "delete notes.txt"),
])
def test_an_argument_the_request_does_not_give_is_no_plan(answer, req):
    assert plan_of(answer, req) is None


@pytest.mark.parametrize("answer,req", [
    ("renice -n 5 -p 5", "please restart the game from level 5, thanks!"),   # no word asks for it
    ("ifdown caps", "HEY, TURN OFF CAPS LOCK THANKS."),      # not an interface
    ("ifdown off", "kindly turn off notifications."),
    ("ifup eth0", "what about eth0"),
    ("mount /dev/sdb1 /mnt", "what is on /dev/sdb1 at /mnt"),
    ("undo", "show the last thing"),
    ("cp photos photos", "copy it to photos"),               # onto itself
    ("rm thanks", "kindly erase those thanks."),            # a word of the sentence, not a name
    ("rm nothing", "please delete nothing"),
])
def test_an_action_the_request_does_not_ask_for_is_no_plan(answer, req):
    assert plan_of(answer, req) is None


@pytest.mark.parametrize("answer,req", [
    ("renice -n 5 -p 42", "lower the priority of 42 to nice 5"),
    ("ifdown wlan0", "take wlan0 offline"),
    ("ifup enp0s3", "bring enp0s3 up"),
    ("ifup lo", "启用 lo"),
    ("rm 笔记.txt", "把笔记.txt删掉"),                         # Chinese around a name is a boundary
    ("cat a.txt", "show a.txt."),
    ("rm nothing", 'please delete the file "nothing"'),      # quoted: a name
])
def test_plausible_actions_pass(answer, req):
    assert plan_of(answer, req), (answer, req)


def test_a_path_or_pid_from_the_conversation_counts():
    earlier = [{"tool": "read_file", "args": {"path": "/data/notes.txt"}},
               {"tool": "kill_process", "args": {"pid": 812}}]
    assert plan_of("rm notes.txt", "now delete it", actions=earlier) == [
        {"tool": "remove", "args": {"path": "/data/notes.txt"}}]
    assert plan_of("kill -KILL 812", "force it", actions=earlier) == [
        {"tool": "kill_process", "args": {"pid": 812, "signal": "KILL"}}]


SAMPLE_ARGS = {"mv": " a b", "cp": " a b", "echo": " hi > a", "find": " . -name x", "kill": " 1",
               "renice": " -n 1 -p 1", "mount": " /dev/x /mnt", "ifup": " eth0", "ifdown": " eth0"}


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_the_grammar_allows_is_a_command_the_parser_reads(verb):
    line = verb + SAMPLE_ARGS.get(verb, " a" if verb in ("cat", "mkdir", "rm", "stat", "umount",
                                                         "touch", "hostname") else " nginx" if verb == "pkill" else "")
    assert parse_shell(line, Context(cwd=D)), line
    assert f'"{verb}"' in grammar()


def test_the_grammar_is_valid_gbnf():
    llama_cpp = pytest.importorskip("llama_cpp")
    assert llama_cpp.LlamaGrammar.from_string(grammar(), verbose=False)


# ---- the adapter ------------------------------------------------------------------------

def _fake_model(tmp_path, body=b"x" * 1000):
    m = tmp_path / "model.gguf"
    m.write_bytes(b"GGUF" + body)
    return str(m)


def _lora_gguf(path, kind="lora"):
    """A minimal valid GGUF with adapter.type and one tiny tensor."""
    import struct
    def s(b):
        return struct.pack("<Q", len(b)) + b
    kv = s(b"adapter.type") + struct.pack("<I", 8) + s(kind.encode())
    tensor = s(b"t") + struct.pack("<I", 1) + struct.pack("<Q", 4) + struct.pack("<I", 0) + struct.pack("<Q", 0)
    head = b"GGUF" + struct.pack("<I", 3) + struct.pack("<Q", 1) + struct.pack("<Q", 1) + kv + tensor
    head += b"\0" * ((-len(head)) % 32)
    path.write_bytes(head + b"\0" * 16)
    return str(path)


def test_an_adapter_for_this_model_passes(tmp_path):
    model = _fake_model(tmp_path)
    lora = _lora_gguf(tmp_path / "model.gguf.lora.gguf")
    A.write_meta(lora, model, run="t")
    assert A.find_adapter(model) == lora
    assert A.check(lora, model)["run"] == "t"


def test_an_adapter_for_another_model_is_refused(tmp_path):
    model = _fake_model(tmp_path)
    other = tmp_path / "other.gguf"
    other.write_bytes(b"GGUF" + b"y" * 1000)
    lora = _lora_gguf(tmp_path / "model.gguf.lora.gguf")
    A.write_meta(lora, str(other))
    with pytest.raises(A.AdapterError, match="another model"):
        A.check(lora, model)


def test_a_damaged_truncated_or_foreign_adapter_is_refused(tmp_path):
    model = _fake_model(tmp_path)
    lora = _lora_gguf(tmp_path / "model.gguf.lora.gguf")
    A.write_meta(lora, model)
    with open(lora, "r+b") as f:      # one byte changed after the sha256 was pinned
        f.seek(os.path.getsize(lora) - 1)
        f.write(b"\1")
    with pytest.raises(A.AdapterError, match="damaged"):
        A.check(lora, model)
    with open(lora, "r+b") as f:
        f.truncate(20)
    with pytest.raises(A.AdapterError, match="not usable"):
        A.check(lora, model)
    notlora = _lora_gguf(tmp_path / "x.lora.gguf", kind="control_vector")
    A.write_meta(notlora, model)
    with pytest.raises(A.AdapterError, match="not a LoRA adapter"):
        A.check(notlora, model)
    bare = _lora_gguf(tmp_path / "y.lora.gguf")
    with pytest.raises(A.AdapterError, match="which model"):
        A.check(bare, model)


def test_llmos_adapter_none_turns_it_off(tmp_path, monkeypatch):
    model = _fake_model(tmp_path)
    _lora_gguf(tmp_path / "model.gguf.lora.gguf")
    monkeypatch.setenv("LLMOS_ADAPTER", "none")
    assert A.find_adapter(model) is None


# ---- the planner's order ----------------------------------------------------------------

class FakeTranslator:
    """answers: request → the model's answer; logprobs: (request, answer) → log P, for the
    arbitration between the rules' reading and the model's (the model's own answer: 0)."""
    adapter = "fake.lora.gguf"

    def __init__(self, answers, logprobs=None):
        self.answers, self.asked, self.scored = answers, [], []
        self.logprobs = logprobs or {}
        self.last_logprob = 0.0

    def translate(self, request, cwd, grammar_text=None, max_tokens=64):
        self.asked.append(request)
        self.last_logprob = 0.0
        return self.answers.get(request, "")

    def answer_logprob(self, request, cwd, answer):
        self.scored.append((request, answer))
        return self.logprobs.get((request, answer), -10.0), 3


def planner_with(answers, logprobs=None):
    p = Planner(use_model=False)
    rt = FakeTranslator(answers, logprobs)
    p._runtime, p._status = rt, "ready"
    return p, rt


def test_exact_syntax_and_templates_never_ask_the_model():
    p, rt = planner_with({})
    assert p.plan("rm old.log", D) == [{"tool": "remove", "args": {"path": "/data/old.log"}}]
    assert p.plan("delete old.log", D) == [{"tool": "remove", "args": {"path": "/data/old.log"}}]
    assert p.plan("把 old.log 删掉", D) == [{"tool": "remove", "args": {"path": "/data/old.log"}}]
    assert rt.asked == [] and p.last_source == "parser"


def test_other_phrasings_are_the_models():
    p, rt = planner_with({"看看这儿都有些啥": "ls"})      # no template, no English rule reads it
    assert p.plan("看看这儿都有些啥", D) == [{"tool": "list_dir", "args": {"path": "/data"}}]
    assert rt.asked == ["看看这儿都有些啥"] and p.last_source == "model"


def test_the_order_english_rules_or_model_first():
    p, rt = planner_with({"list directory contents": "ls"})
    p.english_first, p.arbitrate = True, False     # LLMOS_PLANNER_ORDER=english-first
    p.plan("list directory contents", D)
    assert rt.asked == [] and p.last_source == "parser"
    p.english_first = False    # LLMOS_PLANNER_ORDER=model-first
    assert p.plan("list directory contents", D) == [{"tool": "list_dir", "args": {"path": "/data"}}]
    assert rt.asked == ["list directory contents"] and p.last_source == "model"


def test_arbitrated_is_the_default(monkeypatch):
    monkeypatch.delenv("LLMOS_PLANNER_ORDER", raising=False)
    p = Planner(use_model=False)
    assert p.arbitrate and not p.english_first


def test_where_rules_and_model_differ_the_model_scores_both_readings():
    """The rules read "enumerate /etc/ssh" as ls /etc/ssh, the model answers uname -a."""
    req = "enumerate /etc/ssh"
    ls = [{"tool": "list_dir", "args": {"path": "/etc/ssh"}}]
    # the rules' reading about as likely as the model's own (within the margin): the rules'
    p, rt = planner_with({req: "uname -a"}, {(req, "ls /etc/ssh"): -1.0})
    assert p.arbitrate
    assert p.plan(req, "/") == ls and p.last_source.startswith("parser (the model preferred")
    assert rt.scored == [(req, "ls /etc/ssh")]          # the model's own was counted decoding it
    assert p.last_arbitration == {"rules": "ls /etc/ssh", "rules_logprob": -1.0,
                                  "model": "uname -a", "model_logprob": 0.0}
    # far less likely (beyond the margin): the model's
    from llmos_init.planner.planner import ARBITRATION_MARGIN
    p, rt = planner_with({req: "uname -a"}, {(req, "ls /etc/ssh"): -(ARBITRATION_MARGIN + 5.0)})
    assert p.plan(req, "/") == [{"tool": "system_info", "args": {}}] and p.last_source == "model"
    # where both agree nothing is scored
    p, rt = planner_with({req: "ls /etc/ssh"})
    assert p.plan(req, "/") == ls and rt.scored == []


def test_a_later_step_that_points_back_is_the_rules_to_resolve():
    """The model writes spans of the request: "it" of "go into it" is not one, the rules
    carry /data/new from the first step to the second."""
    req = "make a folder /data/new and go into it"
    p, rt = planner_with({req: "mkdir /data/new; cd /"})
    assert p.plan(req, "/") == [{"tool": "make_dir", "args": {"path": "/data/new"}},
                                {"tool": "change_dir", "args": {"path": "/data/new"}}]
    assert rt.asked == [] and p.last_source == "parser"
    # a first step has nothing before it to point at: still the model's to translate
    p, rt = planner_with({"go into it": "cd /data"})
    p.plan("go into it", "/")
    assert rt.asked == ["go into it"]


def test_the_models_plan_passes_the_guard():
    # a destructive command for a request without a verb for it: not done
    p, _ = planner_with({"tidy up old.log": "rm old.log"})
    plan = p.plan("tidy up old.log", D)
    assert [a["tool"] for a in plan] == ["clarify"]


def test_an_unusable_answer_falls_back_and_says_why():
    p, _ = planner_with({"make zz.txt vanish": "rm other.txt"})
    plan = p.plan("make zz.txt vanish", D)
    assert "other.txt" not in json.dumps([a for a in plan if a["tool"] != "clarify"])
    assert plan[0]["tool"] == "clarify" and "other.txt" in plan[0]["args"]["question"], plan
    assert p.last_source.startswith("parser")


def test_no_command_gets_a_reply_not_a_tool():
    from llmos_init.planner.canonical import NO_COMMAND
    p, _ = planner_with({"hello, who are you?": NO_COMMAND})
    assert p.plan("hello, who are you?", D) == [{"tool": "answer", "args": {}}]


def test_a_model_that_drops_a_step_or_cuts_a_text_loses_to_the_rules():
    req = "make a folder /data/tmp and list it"
    p, rt = planner_with({req: "ls /data/tmp",
                          "create notes.txt with the text meeting at 5": "echo 'at 5' > notes.txt"})
    assert [a["tool"] for a in p.plan(req, "/")] == ["make_dir", "list_dir"]
    assert rt.scored == []                         # no need to score: a step was left out
    assert p.plan("create notes.txt with the text meeting at 5", D) == [
        {"tool": "write_file", "args": {"path": "/data/notes.txt", "text": "meeting at 5"}}]


def test_rules_that_leave_out_a_name_the_model_read_give_way_unweighed():
    """The rules read "the areas projects" as the cwd and "this thing" as a file called
    thing; the model wrote the names the request gives. Its reading stands, however likely
    the model finds the rules' (planner._drops_names); where the rules name all the model
    does, the two are weighed as before."""
    listing = "list the contents of the areas projects"
    rename = "rename this thing to the new name: a.txt b.bak"
    p, rt = planner_with({listing: "ls projects", rename: "mv a.txt b.bak"},
                         {(listing, "ls"): 0.0, (rename, "mv thing b.bak"): 0.0})
    assert p.plan(listing, D) == [{"tool": "list_dir", "args": {"path": "/data/projects"}}]
    assert p.plan(rename, D) == [{"tool": "move", "args": {"src": "/data/a.txt", "dst": "/data/b.bak"}}]
    assert p.last_source == "model" and rt.scored == []
    # other tools: weighed (the rules read the listing; the model's cat is about as likely)
    p, rt = planner_with({listing: "cat projects"}, {(listing, "ls"): -1.0})
    assert p.plan(listing, D) == [{"tool": "list_dir", "args": {"path": "/data"}}]
    assert rt.scored == [(listing, "ls")]


def test_a_rules_reading_the_guard_sets_aside_is_no_rival():
    """The rules read "the files or folders to the trash x.log" as mv folders x.log, a generic
    word taken for a name, which the guard refuses; the model's rm x.log passes the guard
    and stands unweighed. (The console still asks before removing.)"""
    req = "move the files or folders to the trash x.log"
    p, rt = planner_with({req: "rm x.log"}, {(req, "mv folders x.log"): 0.0})
    assert p.plan(req, D) == [{"tool": "remove", "args": {"path": "/data/x.log"}}]
    assert rt.scored == [] and p.last_source == "model"


def test_references_and_negations_are_the_rules_first_even_model_first():
    """The model sees no conversation: "copy it to photos" after "show x" is the rules'."""
    p, rt = planner_with({"copy it to photos": "cp photos photos",
                          "show backup.tar.gz but don't delete it": "rm backup.tar.gz"})
    p.english_first = False
    hist = [{"request": "show backup.tar.gz", "plan": [{"tool": "read_file", "args": {"path": "/data/backup.tar.gz"}}]}]
    assert p.plan("copy it to photos", D, hist) == [
        {"tool": "copy", "args": {"src": "/data/backup.tar.gz", "dst": "/data/photos"}}]
    assert p.plan("show backup.tar.gz but don't delete it", D) == [
        {"tool": "read_file", "args": {"path": "/data/backup.tar.gz"}}]
    assert rt.asked == []


def test_a_power_off_then_reboot_is_one_reboot():
    """shutdown -r: the model's "poweroff, reboot" for it is the reboot alone, nothing after it."""
    p, _ = planner_with({"power off, then reboot": "poweroff\nreboot\nls"})
    p.english_first = False
    assert p.plan("power off, then reboot", D) == [{"tool": "reboot", "args": {}}]


def test_questions_never_reach_the_model():
    p, rt = planner_with({"is eth0 up?": "ifup eth0"})
    plan = p.plan("is eth0 up?", D)
    assert all(a["tool"] != "link_up" for a in plan)


def test_the_shipped_adapter_is_found_by_the_model_it_names(tmp_path, monkeypatch):
    monkeypatch.delenv("LLMOS_ADAPTER", raising=False)
    shipped = tmp_path / "adapters"
    shipped.mkdir()
    model = _fake_model(tmp_path)
    other = tmp_path / "other.gguf"
    other.write_bytes(b"GGUF" + b"z" * 1000)
    mine = _lora_gguf(shipped / "mine.lora.gguf")
    A.write_meta(mine, model)
    A.write_meta(_lora_gguf(shipped / "theirs.lora.gguf"), str(other))
    monkeypatch.setattr(A, "SHIPPED", str(shipped))
    assert A.find_adapter(model) == mine
    assert A.find_adapter(str(other)) == str(shipped / "theirs.lora.gguf")


def test_a_model_plan_that_leaves_out_a_place_the_request_names_is_the_rules():
    """"from logs" joined to the name is beyond spans of the request: the rules' path,
    which adds only words the request has, stands over the model's shorter one."""
    req = "delete budget.xlsx from logs"
    p, rt = planner_with({req: "rm budget.xlsx"}, {(req, "rm logs/budget.xlsx"): -40.0})
    assert p.plan(req, D) == [{"tool": "remove", "args": {"path": "/data/logs/budget.xlsx"}}]
    # (a file placed in a directory is the rules' first now: the model is not even asked)
    assert p.last_source.startswith("parser") and rt.asked == []
    # a path the rules made up from a word the request does not have is no reason
    from llmos_init.planner.planner import _drops_places
    model = [{"tool": "remove", "args": {"path": "/data/a.txt"}}]
    assert not _drops_places(model, [{"tool": "remove", "args": {"path": "/data/tmp/a.txt"}}],
                             "delete a.txt", "/data")
    assert _drops_places(model, [{"tool": "remove", "args": {"path": "/data/tmp/a.txt"}}],
                         "delete a.txt in tmp.", "/data")
    # another tool, or another name, is a different reading: scored, not overruled
    assert not _drops_places(model, [{"tool": "read_file", "args": {"path": "/data/tmp/a.txt"}}],
                             "delete a.txt in tmp", "/data")
    assert not _drops_places(model, [{"tool": "remove", "args": {"path": "/data/tmp/b.txt"}}],
                             "delete b.txt in tmp", "/data")


def test_a_file_the_request_places_in_a_directory_is_that_one():
    """"a.txt in docs" is /data/docs/a.txt: the rules join the two first, and a model plan
    that acts on another a.txt, or on docs itself, is no plan."""
    req = "copy b.txt from work to logs"
    p, rt = planner_with({req: "cp b.txt work"})
    assert p.plan(req, D) == [{"tool": "copy", "args": {"src": "/data/work/b.txt", "dst": "/data/logs"}}]
    assert rt.asked == []
    from llmos_init.planner.translation import misplaced
    zh = "麻烦把文档里的old.log删掉"
    assert misplaced({"tool": "remove", "args": {"path": "/data/old.log"}}, zh)
    assert misplaced({"tool": "remove", "args": {"path": "/data/文档/old.log"}}, zh) is None
    zh = "请把 文档 里的 a.txt 移到 相册"
    assert misplaced({"tool": "move", "args": {"src": "/data/文档", "dst": "/data/相册"}}, zh)
    assert misplaced({"tool": "remove", "args": {"path": "/data/a.txt"}}, "delete a.txt") is None
    # the model's attempt is refused: a clarify, never rm of another old.log
    unspaced = "麻烦把文档里的old.log删掉"
    p, rt = planner_with({unspaced: "rm old.log"})
    plan = p.plan(unspaced, D)
    assert all(a["tool"] not in ("move", "remove") for a in plan), plan
    # with both Chinese names set off by spaces the template reads it, the model unasked
    p, rt = planner_with({zh: "mv 文档 相册"})
    assert p.plan(zh, D) == [{"tool": "move", "args": {"src": "/data/文档/a.txt", "dst": "/data/相册"}}]
    assert rt.asked == []


def test_a_model_mkdir_nothing_asked_for_is_no_plan():
    p, rt = planner_with({"copy draft.docx to projects please": "cp draft.docx projects\nmkdir projects"})
    plan = p.plan("copy draft.docx to projects please", D)
    assert all(a["tool"] != "make_dir" for a in plan), plan


def test_a_model_cd_to_where_it_already_is_is_no_reading_of_going_somewhere():
    # (a phrasing no template reads: "go up a directory" is a template's, and never asks)
    p, rt = planner_with({"climb out a level": "cd ."})
    plan = p.plan("climb out a level", "/data/docs")
    assert [a["tool"] for a in plan] == ["clarify"], plan
    assert "where it already is" in plan[0]["args"]["question"]
    assert p.last_source.startswith("parser (the model's answer was not usable")
    p, rt = planner_with({})
    assert p.plan("go up a directory", "/data/docs") == [{"tool": "change_dir", "args": {"path": "/data"}}]
    assert rt.asked == []
    # a request that names the current directory may stay there
    p, rt = planner_with({"stay in the current directory": "cd ."})
    assert p.plan("stay in the current directory", D) == [{"tool": "change_dir", "args": {"path": D}}]
    assert p.last_source == "model"


@pytest.mark.parametrize("answer,req", [
    # the tail of a word written with its directory is another place
    ("cp config.v2.yaml tmp/copy.txt", "Copy one or more files config.v2.yaml /tmp/copy.txt"),
    ("mv logs/app.log tmp/copy.txt", "重命名文件 /data/logs/app.log /tmp/copy.txt"),
    ("ls /music", "Iterate over the files in this directory: ~/music"),
    ("rm a.txt", "把/tmp/a.txt删掉"),
])
def test_a_name_moved_out_of_the_directory_the_request_writes_is_no_plan(answer, req):
    assert plan_of(answer, req) is None


def test_a_name_written_with_and_without_a_directory_may_be_either():
    assert plan_of("cp a.txt /tmp/a.txt", "copy a.txt to /tmp/a.txt") == [
        {"tool": "copy", "args": {"src": "/data/a.txt", "dst": "/tmp/a.txt"}}]
    assert plan_of("rm /data/todo.md", "删除文件：~/todo.md") == [
        {"tool": "remove", "args": {"path": "/data/todo.md"}}]
    assert plan_of("rm a.txt", "把/tmp/a.txt删掉", cwd="/tmp") == [
        {"tool": "remove", "args": {"path": "/tmp/a.txt"}}]


@pytest.mark.parametrize("answer,req", [
    ("cp backup/report.pdf report.pdf", "Copy one or more files report.pdf backup/report.pdf"),
    ("mv notes.bak notes.txt", "Move one or more files: notes.txt notes.bak"),
    ("cp b.txt a.txt", "把 a.txt 复制一份 b.txt"),
])
def test_two_names_side_by_side_are_source_then_destination(answer, req):
    assert plan_of(answer, req) is None
    src, dst = answer.split()[1:]
    assert plan_of(f"{answer.split()[0]} {dst} {src}", req) is not None


def test_a_direction_word_lets_the_destination_come_first():
    assert plan_of("mv a.txt docs", "into docs, move a.txt") == [
        {"tool": "move", "args": {"src": "/data/a.txt", "dst": "/data/docs"}}]
    assert plan_of("cp a.txt b.txt", "把 b.txt 从 a.txt 复制过来") is not None


@pytest.mark.parametrize("req,lines", [
    ("Iterate over the files in this directory: old.d", 1),   # one clause, one name
    ("make a folder x", 1),
    ("delete a.txt and b.txt", 4),
    ("rm a.txt b.txt", 4),                                    # two names: one command each
    ("把 a.txt 删掉，然后重启", 4),
    ("cd docs; ls", 4),
])
def test_a_request_of_one_clause_is_answered_with_one_command(req, lines):
    from llmos_init.planner.translation import max_lines
    import llama_cpp
    assert max_lines(req) == lines
    g = grammar(max_lines(req))
    assert llama_cpp.LlamaGrammar.from_string(g, verbose=False)
    assert ('("\\n" line)' in g) == (lines > 1)


# ---- the grammar of an answer's arguments: the request's own words -----------------------

@pytest.mark.parametrize("answer,req,cwd,why", [
    ("mkdir /ratch", "帮我弄一个叫 scratch 的新文件夹", D, "'/ratch'"),    # a word's tail
    ("mkdir scratch", "帮我弄一个叫 scratch 的新文件夹", D, None),
    ("mkdir /data/scratch", "帮我弄一个叫 scratch 的新文件夹", D, None),  # the cwd's names
    ("rm 相册", "把相册删掉", D, None),                                  # Chinese, char by char
    ("ls /data/music", "List the contents of ~/music", "/tmp", None),    # ~ is the data dir
    ("rm notes.txt", "Remove the file:notes.txt.", D, None),
    ("kill 9805", "停止pid9805的进程", D, None),                         # a number glued to a word
    ("renice -n -8 -p 7645", "将pid7645号的nice值调到-8", D, None),
    ("kill -KILL 42", "force kill 42", D, None),
    ("echo 'print('hi')' > a.py", "put print('hi') in a.py", D, None),  # the echo form's text
    ("echo 'x' > b.txt", "put x in a.txt", D, "'b.txt'"),
    ("./scripts/backup.sh --config /etc/app.conf", "run scripts/backup.sh --config /etc/app.conf", D, None),
    ("rm a.txt\nrm b.txt\nrm c.txt\nrm d.txt\nrm e.txt", "rm a.txt b.txt c.txt d.txt e.txt", D,
     "an answer of 5 commands"),
    ("cat a.txt", "show me a.txt", D, None),
])
def test_an_answer_is_written_with_the_requests_words(answer, req, cwd, why):
    from llmos_init.planner.translation import unwritten
    assert unwritten(answer, req, cwd) == why


def _eval_targets():
    """(request, cwd, canonical command) of every case of the eval sets that needs no
    conversation before it."""
    from llmos_init.planner.canonical import commands
    root = os.path.join(os.path.dirname(__file__), "..", "eval")
    for name in ("cases.jsonl", "heldout_dev.jsonl", "heldout_test.jsonl", "outside/dev_en.jsonl",
                 "outside/dev_zh.jsonl", "adversarial/adversarial_en.jsonl", "adversarial/adversarial_zh.jsonl"):
        for line in open(os.path.join(root, name), encoding="utf-8"):
            r = json.loads(line)
            if r.get("history") or not r.get("expect"):
                continue
            cmd = commands(r["expect"], r.get("cwd", D))
            if cmd:
                yield r["request"], r.get("cwd", D), cmd


def test_every_eval_target_is_an_answer_the_grammar_admits():
    """The grammar takes nothing away from a right answer: each canonical command an eval
    case expects (without a conversation) is written with its request's words."""
    from llmos_init.planner import text as T
    from llmos_init.planner.translation import unwritten
    got = list(_eval_targets())
    assert len(got) > 1000
    # the request as the model reads it (planner.py: T.normalise; "ａ.txt" is a.txt)
    refused = [(r, cmd) for r, c, cmd in got
               if unwritten(cmd, T.normalise(r), c, lines=cmd.count("\n") + 1) is not None]
    assert refused == []


def test_the_request_grammar_is_valid_gbnf_for_any_request():
    llama_cpp = pytest.importorskip("llama_cpp")
    from llmos_init.planner.translation import answer_grammar
    for req in ["帮我弄一个叫 scratch 的新文件夹", 'write "a \\ b" to x.txt', "tab\there",
                "emoji 😀.txt and \x07bell", "'" * 50, "x " * 200_000, ""]:
        g = answer_grammar(req, Context(cwd=D))
        assert llama_cpp.LlamaGrammar.from_string(g, verbose=False), req[:40]


def test_a_description_value_the_rules_leave_out_is_the_models():
    """The rules read "... a running process 31337" as ps, which leaves out the pid the
    description ends with; the model's renice uses it, however likely the model finds ps."""
    req = "Change scheduling priority of a running process 31337"
    p, rt = planner_with({req: "renice -p 31337"}, {(req, "ps"): 0.0})
    assert p.plan(req, "/") == [{"tool": "set_priority", "args": {"pid": 31337}}]
    assert p.last_source == "model"


def test_a_signal_said_by_its_meaning_is_sent():
    p, rt = planner_with({"Forcibly terminate a process 65": "kill 65", "强制结束某个进程 1234": "kill 1234"})
    for req, pid in (("Forcibly terminate a process 65", 65), ("强制结束某个进程 1234", 1234)):
        assert p.plan(req, "/") == [{"tool": "kill_process", "args": {"pid": pid, "signal": "KILL"}}]


def test_implausible_values():
    assert "nice value" in T.implausible({"tool": "set_priority", "args": {"pid": 65, "nice": 65}},
                                          "Change scheduling priority of a running process: 65")
    # an empty file for a name with no extension and no word for a file may be a folder
    assert T.implausible({"tool": "write_file", "args": {"path": "/srv/www", "text": ""}}, "Create /srv/www")
    assert T.implausible({"tool": "write_file", "args": {"path": "/data/notes.txt", "text": ""}},
                         "Create notes.txt") is None
    assert T.implausible({"tool": "write_file", "args": {"path": "/data/notes", "text": ""}},
                         "create an empty file notes") is None


def test_what_a_negated_clause_names_is_it_for_every_reader():
    """"不要删除 report.pdf，只显示它": the rules read "只显示它" as report.pdf, so the model is
    not asked (it was, when the check for whether the rules read every step forgot the name)."""
    p, rt = planner_with({"不要删除 report.pdf，只显示它": "?"})
    assert p.plan("不要删除 report.pdf，只显示它", D) == [{"tool": "read_file", "args": {"path": "/data/report.pdf"}}]
    assert rt.asked == []
