"""mkimage/train/source.py: the commit a corpus or a run was made at, and which of its inputs
were not as committed (corpus-v3's corpus could not be made again for want of this)."""
import subprocess

from mkimage.train import source


def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin", "HOME": str(repo)})


def test_clean_checkout_names_its_commit(tmp_path):
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen/a.py").write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "one")
    d = source.describe(tmp_path, inputs=("gen",))
    assert len(d["commit"]) == 40 and d["dirty"] == []


def test_changed_and_untracked_inputs_are_named_outputs_and_other_paths_are_not(tmp_path):
    (tmp_path / "gen").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "gen/a.py").write_text("x = 1\n")
    (tmp_path / "other/b.txt").write_text("b\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "one")
    (tmp_path / "gen/a.py").write_text("x = 2\n")
    (tmp_path / "gen/new.yaml").write_text("n\n")
    (tmp_path / "gen/out").mkdir()
    (tmp_path / "gen/out/corpus.jsonl").write_text("{}\n")
    (tmp_path / "other/b.txt").write_text("changed\n")
    d = source.describe(tmp_path, inputs=("gen",), ignore=("gen/out/",))
    assert d["dirty"] == ["gen/a.py", "gen/new.yaml"]


def test_not_a_checkout_says_so(tmp_path):
    d = source.describe(tmp_path / "nowhere")
    assert d["commit"] is None and d["dirty"] is None and "unknown" in d["note"]
