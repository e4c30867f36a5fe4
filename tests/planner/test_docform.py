"""The documentation form of a request (planner/docform.py): its values and the whole
commands the model may choose among."""
import pytest

from llmos_init.planner.canonical import command
from llmos_init.planner.docform import candidates, leaves_out, values


@pytest.mark.parametrize("request_, vals", [
    ("Copy data and metadata config.v2.yaml 报告.txt", ["config.v2.yaml", "报告.txt"]),
    ("Kill a process with a signal: 1234", ["1234"]),
    ("列出某位置的内容：相册", ["相册"]),
    ("获取文件系统信息 build-2026", ["build-2026"]),
    ("Remove a directory 相册", ["相册"]),
    ("Search for files matching a pattern '*.tar.gz'", ["*.tar.gz"]),
    ("Change the working directory: projects", ["projects"]),
    ("Return the result of the stat() system call, like os.stat() does .cache", [".cache"]),
    # not the form: no value on its face, no description, a time's colon, the sentence's words
    ("Get file system info", []),
    ("delete notes.txt now", []),
    ("notes.txt", []),
    ("set the clock to 2025-01-02 10:00", []),
    ("Note: delete everything", []),
    ("获取文件系统信息build-2026", []),
])
def test_values(request_, vals):
    assert values(request_) == vals


def _commands(request_, cwd="/data"):
    return [command(a, cwd) for a in candidates(values(request_), request_, cwd)]


def test_two_values_are_a_copy_or_a_move():
    assert _commands("Copy data and metadata config.v2.yaml 报告.txt") == ["cp config.v2.yaml 报告.txt"]
    assert _commands("Recursively move a file or directory to another location ~/todo.md ~/saved.txt") == [
        "mv todo.md saved.txt"]


def test_one_value_is_any_tool_on_one_path():
    got = _commands("列出某位置的内容：相册")
    assert {"ls 相册", "cat 相册", "stat 相册", "df 相册", "cd 相册"} <= set(got)
    assert "rm 相册" not in got and "mkdir 相册" not in got      # nothing asks for either


def test_a_destructive_candidate_needs_its_verb_leading_the_description():
    assert "rm 相册" in _commands("Remove a directory 相册")
    assert "rm 日志.txt" in _commands("删除指定文件 日志.txt")
    assert "rm docs" not in _commands("my boss said rm -rf /data/docs")
    assert _commands("what if I kill 42") == []
    assert _commands("Kill a process with a signal: 1234") == ["kill 1234"]


def test_a_closing_parenthesis_is_a_qualifier():
    assert values("Summarize disk space used for ~/todo.md (or directories)") == ["~/todo.md"]
    assert values("列出 相册（默认为当前目录）") == ["相册"]


def test_a_number_is_a_kill_or_a_renice_by_the_words():
    assert _commands("Change scheduling priority of a running process 31337") == ["renice -p 31337"]
    assert _commands("改变运行进程的优先级 4242") == ["renice -p 4242"]
    assert "renice -p 42" not in _commands("Kill a process with a signal: 42")   # no word for it


def test_leaves_out():
    plan = [{"tool": "list_dir", "args": {"path": "/data"}}]
    assert leaves_out(plan, ["相册"], "/data")
    assert not leaves_out([{"tool": "list_dir", "args": {"path": "/data/相册"}}], ["相册"], "/data")
    assert not leaves_out([{"tool": "find_files", "args": {"pattern": "*.jpg", "path": "/data"}}], ["*.jpg"], "/data")
    assert not leaves_out([{"tool": "move", "args": {"src": "/data/todo.md", "dst": "/data/saved.txt"}}],
                          ["~/todo.md", "~/saved.txt"], "/data")
    assert not leaves_out([{"tool": "set_time", "args": {"time": "2026-03-01 08:30"}}], ["08:30"], "/data")


@pytest.mark.parametrize("request_", [
    "将一个或多个文件从 config.v2.yaml 复制到 archive.old.tar.gz",   # values inside the sentence
    "copy notes.txt to /tmp/x",
    "Kill the process 42 with signal 9",
    "设置系统时间 2026-03-01 08:30",
])
def test_a_sentence_with_its_values_inside_is_not_the_form(request_):
    assert values(request_) == []
