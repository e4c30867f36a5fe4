"""The Buildroot external tree (buildroot/) is well formed: every path it names
exists, packages have the shape and variables Buildroot requires, the symbols the
defconfigs set are declared, the post-image scripts are clean shell."""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.buildroot import brtree as br

DEFCONFIGS = br.defconfigs()
PACKAGES = {p.name: p for p in br.packages()}


def _check_exists(path, where):
    if not path.exists():
        pytest.fail(f"{where} references {path}, which does not exist")


def test_external_desc_names_the_tree_llmos():
    desc = dict(line.split(":", 1) for line in (br.EXTERNAL / "external.desc").read_text().splitlines()
                if line.strip())
    assert desc["name"].strip() == "LLMOS"      # -> $(BR2_EXTERNAL_LLMOS_PATH)
    assert desc["desc"].strip()


def test_external_mk_includes_every_package():
    text = (br.EXTERNAL / "external.mk").read_text()
    assert "include $(sort $(wildcard $(BR2_EXTERNAL_LLMOS_PATH)/package/*/*.mk))" in text


def test_three_defconfigs():
    assert set(DEFCONFIGS) == {"llmos_qemu_x86_64_defconfig", "llmos_qemu_aarch64_virt_defconfig",
                               "llmos_raspberrypi4_64_defconfig"}


@pytest.mark.parametrize("name", sorted(DEFCONFIGS))
def test_defconfig_paths_exist(name):
    conf = br.read_defconfig(DEFCONFIGS[name])
    paths = [(sym, p) for sym, v in conf.items() for p in br.external_paths(v)]
    assert paths, "a defconfig of this tree names files of the tree"
    for sym, p in paths:
        _check_exists(p, f"{name} {sym}")


def test_config_in_sources_exist():
    pairs = br.sourced_paths()
    assert len(pairs) >= 3
    for f, p in pairs:
        assert p.is_file(), f"{f.relative_to(br.REPO)} sources missing {p}"
    # every package with a Config.in is reachable from the top Config.in
    reached = set(br.config_in_files())
    for cfg in br.EXTERNAL.glob("package/*/Config.in"):
        assert cfg in reached, f"{cfg.relative_to(br.REPO)} is not sourced from buildroot/Config.in"


@pytest.mark.parametrize("pkg", sorted(PACKAGES))
def test_mk_paths_exist(pkg):
    p = PACKAGES[pkg]
    found = 0
    for name, value in p.variables.items():
        for word in p.expand(value).split():
            if str(br.EXTERNAL) in word:
                path = re.sub(r"[)'\"]+$", "", word)
                found += 1
                assert Path(path).resolve().exists(), \
                    f"{pkg}.mk {name} names {path}, which does not exist"
    # recipes (define ... endef) name external files too
    for m in re.finditer(r"\$\(BR2_EXTERNAL_LLMOS_PATH\)(/[^\s\"')]+)", p.mk_text):
        found += 1
        assert (br.EXTERNAL / m.group(1).lstrip("/")).resolve().exists(), \
            f"{pkg}.mk names $(BR2_EXTERNAL_LLMOS_PATH){m.group(1)}, which does not exist"
    if pkg in ("llmos-init", "llmos-model", "python-llama-cpp-python"):
        assert found, f"{pkg}.mk reads files of the repository (offline.py, sources)"


@pytest.mark.parametrize("pkg", sorted(PACKAGES))
def test_package_shape(pkg):
    p = PACKAGES[pkg]
    assert len(p.evals) >= 1 and set(p.evals) <= {
        "generic-package", "python-package", "host-python-package", "host-generic-package"}, p.evals
    last = [l for l in p.mk_text.strip().splitlines() if l.strip()][-1]
    assert last.startswith("$(eval $("), f"{pkg}.mk must end with its $(eval $(...-package))"
    header = p.mk_text.splitlines()[:5]
    assert header[0] == "#" * 80 and header[2] == f"# {pkg}", "Buildroot's .mk header"
    assert p.var("VERSION"), f"{pkg}: {p.prefix}_VERSION"
    local = p.var("SITE_METHOD") == "local"
    if local:
        assert p.var("SITE")
    else:
        assert p.var("SITE") and p.var("SOURCE"), f"{pkg}: _SITE and _SOURCE"
        assert re.match(r"https://", p.var("SITE")), f"{pkg}: download over https"
        assert p.var("LICENSE"), f"{pkg}: _LICENSE of a downloaded package"
    if any("python-package" in e for e in p.evals):
        assert p.var("SETUP_TYPE") in {"setuptools", "setuptools-rust", "pep517", "flit", "maturin"}
    if "generic-package" in p.evals or "python-package" in p.evals:
        cfg = p.dir / "Config.in"
        assert cfg.is_file(), f"target package {pkg} needs a Config.in"
        assert f"config BR2_PACKAGE_{p.prefix}\n" in cfg.read_text()


@pytest.mark.parametrize("pkg", sorted(n for n, p in PACKAGES.items()
                                       if p.var("SITE_METHOD") != "local"))
def test_downloads_have_hashes(pkg):
    p = PACKAGES[pkg]
    hashes = br.read_hash(p.dir / f"{pkg}.hash")
    source = p.expand(p.var("SOURCE"))
    assert source in hashes and hashes[source][0] == "sha256", f"{pkg}.hash: no sha256 for {source}"
    for lic in (p.var("LICENSE_FILES") or "").split():
        assert lic in hashes, f"{pkg}.hash: no hash for license file {lic}"


def test_local_package_copies_only_sources():
    """llmos-init's rsync filter: the package and /sbin/init, not images/ or .venv/."""
    if not shutil.which("rsync"):
        pytest.skip("rsync is not installed (Buildroot needs it on the build host)")
    p = PACKAGES["llmos-init"]
    excl = p.var("OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS").replace("'", "").split()
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["rsync", "-a", *excl, f"{br.REPO}/", d], check=True)
        got = {str(x.relative_to(d)) for x in Path(d).rglob("*") if x.is_file()}
    want = {str(x.relative_to(br.REPO)) for x in (br.REPO / "llmos_init").rglob("*")
            if x.is_file() and "__pycache__" not in x.parts and not x.name.startswith("_llmos_sys")}
    assert want <= got
    assert "init/llmos-init" in got
    assert not {g for g in got if g.split("/")[0] not in ("llmos_init", "init")}
    assert not [g for g in got if "__pycache__" in g or "/_llmos_sys" in g]


def test_llmos_init_version_is_the_packages():
    import llmos_init
    text = (br.REPO / "llmos_init/__init__.py").read_text()
    assert re.findall(r'^__version__ = "(.*)"$', text, re.M) == [llmos_init.__version__]


def test_init_shebang_rewrite():
    """The .mk's sed points /sbin/init's #! line at the target's python3.X."""
    p = PACKAGES["llmos-init"]
    m = re.search(r"sed -e '(1s\|[^']+)'", p.mk_text)
    assert m, "llmos-init.mk rewrites the #! line with sed"
    expr = m.group(1).replace("$(PYTHON3_VERSION_MAJOR)", "3.12")
    out = subprocess.run(["sed", "-e", expr, str(br.REPO / "init/llmos-init")], check=True,
                         capture_output=True, text=True).stdout
    first = out.splitlines()[0]
    assert first.startswith("#!/usr/bin/python3.12 "), first
    orig = (br.REPO / "init/llmos-init").read_text().splitlines()
    assert first.split(" ", 1)[1] == orig[0].split(" ", 1)[1]   # same interpreter options
    assert out.splitlines()[1:] == orig[1:]


# ---- Kconfig symbols ---------------------------------------------------------

OWN_PREFIXES = ("BR2_LLMOS_",) + tuple(f"BR2_PACKAGE_{p.prefix}" for p in PACKAGES.values())


def test_own_symbols_used_by_defconfigs_are_declared():
    declared = br.declared_symbols(br.config_in_files())
    for name, path in DEFCONFIGS.items():
        for sym in br.read_defconfig(path):
            if sym.startswith(OWN_PREFIXES):
                assert sym in declared, f"{name} sets {sym}, which no Config.in declares"


def test_own_symbols_referenced_in_config_in_are_declared():
    files = br.config_in_files()
    declared = br.declared_symbols(files)
    for sym in br.referenced_symbols(files):
        if sym.startswith(OWN_PREFIXES):
            assert sym in declared, f"{sym} is referenced but not declared"


@pytest.mark.parametrize("name", sorted(DEFCONFIGS))
def test_defconfig_is_llmos(name):
    c = br.read_defconfig(DEFCONFIGS[name])
    assert c.get("BR2_INIT_NONE") == "y"
    assert c.get("BR2_SYSTEM_BIN_SH_NONE") == "y"
    assert c.get("BR2_PACKAGE_BUSYBOX") == "n"
    assert c.get("BR2_TOOLCHAIN_BUILDROOT_GLIBC") == "y"
    assert c.get("BR2_PACKAGE_PYTHON3") == "y"
    assert c.get("BR2_PACKAGE_LLMOS_INIT") == "y" and c.get("BR2_PACKAGE_LLMOS_MODEL") == "y"
    assert c.get("BR2_TARGET_ROOTFS_SQUASHFS") == "y"
    # Buildroot's rootfs.squashfs is lz4 (its choices all compress); post-image.sh makes
    # it again uncompressed, as the offline build does (test_same_as_offline)
    assert c.get("BR2_TARGET_ROOTFS_SQUASHFS4_LZ4") == "y"
    assert br.external_paths(c["BR2_ROOTFS_OVERLAY"]) == [br.REPO / "rootfs"]
    assert c.get("BR2_LINUX_KERNEL_USE_ARCH_DEFAULT_CONFIG") == "y"
    assert c.get("BR2_LLMOS_LINUX_TINYCONFIG") == "y"
    assert c.get("BR2_PACKAGE_HOST_GENIMAGE") == "y"
    script = br.external_paths(c["BR2_ROOTFS_POST_IMAGE_SCRIPT"])
    assert len(script) == 1 and script[0].name == "post-image.sh"


def test_tinyconfig_override_follows_the_option():
    text = (br.EXTERNAL / "external.mk").read_text()
    assert re.search(r"ifeq \(\$\(BR2_LLMOS_LINUX_TINYCONFIG\),y\)\s*\n"
                     r"LINUX_KCONFIG_DEFCONFIG = tinyconfig\s*\nendif", text)
    cfg = (br.EXTERNAL / "Config.in").read_text()
    block = cfg.split("config BR2_LLMOS_LINUX_TINYCONFIG", 1)[1].split("\nconfig ", 1)[0]
    assert "depends on BR2_LINUX_KERNEL_USE_ARCH_DEFAULT_CONFIG" in block


# ---- shell -------------------------------------------------------------------

SCRIPTS = sorted(br.EXTERNAL.glob("board/*/*.sh"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(br.EXTERNAL)))
def test_scripts_parse(script):
    r = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(br.EXTERNAL)))
def test_scripts_pass_shellcheck(script):
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    r = subprocess.run(["shellcheck", "-x", str(script)], capture_output=True, text=True,
                       cwd=script.parent)
    assert r.returncode == 0, r.stdout + r.stderr


def test_post_image_scripts_are_executable():
    import os
    for s in br.EXTERNAL.glob("board/*/post-image.sh"):
        assert os.access(s, os.X_OK), s
