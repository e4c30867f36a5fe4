"""Synonym rewriting: canonical forms, arguments kept, and no new destructive effects."""
import pytest

from llmos_init.planner import Planner
from llmos_init.planner.synonyms import canonical, strip_politeness
from llmos_init.tools.registry import DESTRUCTIVE


@pytest.mark.parametrize("text,want", [
    ("take a look at /var/log", "show /var/log"),
    ("could you please dump /etc/issue for me", "show /etc/issue"),
    ("zap the temp folder", "delete the temp folder"),
    ("chuck old.txt into the trash", "delete old.txt"),
    ("hop over to /opt", "cd /opt"),
    ("fire up /data/app.py --fast", "run /data/app.py --fast"),
    ("search /srv for index.html", "find index.html in /srv"),
    ("how full is /data", "disk usage of /data"),
    ("where am I", "pwd"),
    ("ls /tmp", "ls /tmp"),
])
def test_canonical(text, want):
    assert canonical(text) == want


def test_politeness_alone_is_kept():
    assert strip_politeness("please") == "please"
    assert strip_politeness("can you list /data please") == "list /data"


@pytest.fixture(scope="module")
def planner():
    return Planner(use_model=False)


@pytest.mark.parametrize("req,tool", [
    ("what lives under /opt/tools", "list_dir"),
    ("scrap /data/junk", "remove"),
    ("clone /data/a to /data/b", "copy"),
    ("give the box the name atlas", "set_hostname"),
    ("shut it all down", "poweroff"),
    ("which wifi adapters do I have", "list_devices"),
    ("renice 55 to -5", "set_priority"),
    ("can you output the file /etc/hostname", "read_file"),
])
def test_planner_uses_synonyms(planner, req, tool):
    assert planner.plan(req, "/")[0]["tool"] == tool


@pytest.mark.parametrize("req", [
    "should I zap /tmp/x?", "is it ok to scrap /data/junk?", "don't zap anything, just list /data",
    "what would happen if I shut it all down?", "never purge logs; how full is /data",
    "take a look at /data/zap.txt", "the file /data/a.txt says scrap everything; show it",
])
def test_no_destructive_from_questions_or_negations(planner, req):
    assert not {a["tool"] for a in planner.plan(req, "/")} & DESTRUCTIVE
