"""Executors for devices and filesystems: list devices (from /sys), disk usage, mount,
unmount, network links up/down. Kernel interfaces go through llmos_init.sys (imported
lazily: the console must start even where the syscall layer cannot load)."""
from __future__ import annotations

import importlib
import os
import stat

from .fsio import under
from .result import Result, ToolError
from .safety import SafetyError, not_on_host, resolved_paths
from .text import human_size, printable, table

PSEUDO_FS = {"proc", "sysfs", "devtmpfs", "devpts", "securityfs", "cgroup", "cgroup2", "pstore",
             "bpf", "debugfs", "tracefs", "configfs", "fusectl", "mqueue", "hugetlbfs",
             "binfmt_misc", "autofs", "efivarfs", "nsfs", "rpc_pipefs", "selinuxfs"}


def sys_layer(name: str):
    try:
        return importlib.import_module(f"llmos_init.sys.{name}")
    except Exception as e:  # ImportError, or the cffi extension failing to load
        raise ToolError(f"the syscall layer ({name}) is not available here: {e}") from None


def _attr(path: str, default: str = "") -> str:
    try:
        with open(path, "rb") as f:
            return f.read(4096).decode("utf-8", "replace").strip()
    except OSError:
        return default


def _mountinfo(ctx) -> list:
    from ..sys.mountinfo import read_mountinfo  # pure Python: no syscall layer needed
    try:
        return read_mountinfo(os.path.join(ctx.procfs, "self", "mountinfo"))
    except OSError as e:
        raise ToolError(f"cannot read the mount table: {e.strerror}") from None
    except ValueError as e:
        raise ToolError(f"cannot read the mount table: {e}") from None


# ---- list_devices ---------------------------------------------------------------------
def _class_entries(ctx, cls: str) -> tuple[str, list[str]]:
    """/sys/class/<cls> and its entries, sorted (none when the class is absent)."""
    base = os.path.join(ctx.sysfs, "class", cls)
    try:
        return base, sorted(os.listdir(base))
    except OSError:
        return base, []


def _block(ctx) -> tuple[str, list]:
    base, names = _class_entries(ctx, "block")
    try:
        where = {m.source: m.target for m in _mountinfo(ctx)}
    except ToolError:
        where = {}
    rows, data = [], []
    for n in names:
        d = os.path.join(base, n)
        if n.startswith(("loop", "ram")) and _attr(os.path.join(d, "size"), "0") == "0":
            continue  # unused loop/ram devices
        size = int(_attr(os.path.join(d, "size"), "0") or 0) * 512
        kind = "part" if os.path.exists(os.path.join(d, "partition")) else "disk"
        ro = _attr(os.path.join(d, "ro"), "0") == "1"
        removable = _attr(os.path.join(d, "removable"), "0") == "1"
        model = _attr(os.path.join(d, "device", "model"))
        mnt = where.get("/dev/" + n, "")
        data.append({"name": n, "size": size, "type": kind, "ro": ro, "removable": removable,
                     "model": model, "mountpoint": mnt})
        rows.append([n, kind, human_size(size), "ro" if ro else "rw", "yes" if removable else "no",
                     mnt or "-", model])
    if not rows:
        return "block devices: none", data
    return "block devices:\n" + table(["NAME", "TYPE", "SIZE", "RO", "REMOVABLE", "MOUNTED ON", "MODEL"],
                                      rows, right={2}), data


def _ipv6(ctx) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    try:
        with open(os.path.join(ctx.procfs, "net", "if_inet6")) as f:
            for line in f:
                fld = line.split()
                if len(fld) >= 6:
                    h = fld[0]
                    addr = ":".join(h[i:i + 4] for i in range(0, 32, 4))
                    import ipaddress
                    out.setdefault(fld[5], []).append(f"{ipaddress.IPv6Address(addr)}/{int(fld[2], 16)}")
    except (OSError, ValueError):
        pass
    return out


def _net(ctx) -> tuple[str, list]:
    base, names = _class_entries(ctx, "net")
    v6 = _ipv6(ctx)
    try:
        netif = importlib.import_module("llmos_init.sys.netif")
    except Exception:
        netif = None
    rows, data = [], []
    for n in names:
        d = os.path.join(base, n)
        state = _attr(os.path.join(d, "operstate"), "unknown")
        flags = _attr(os.path.join(d, "flags"), "0x0")
        try:
            up = bool(int(flags, 16) & 1)
        except ValueError:
            up = False
        mac = _attr(os.path.join(d, "address"))
        addrs = []
        if netif is not None:
            try:
                got = netif.get_ipv4(n)
                if got:
                    import ipaddress
                    addrs.append(f"{got[0]}/{ipaddress.IPv4Network('0.0.0.0/' + got[1]).prefixlen}")
            except (OSError, ValueError):
                pass
        addrs += v6.get(n, [])
        data.append({"name": n, "up": up, "state": state, "mac": mac, "addresses": addrs})
        rows.append([n, "up" if up else "down", state, mac or "-", ", ".join(addrs) or "-"])
    if not rows:
        return "network interfaces: none", data
    out = "network interfaces:\n" + table(["NAME", "LINK", "STATE", "MAC", "ADDRESSES"], rows)
    configured = None if ctx.host else _net_state()
    if configured:
        out += "\n" + printable(configured)
    return out, data


def _net_state() -> str | None:
    """The network service's line (llmos_init/net): address, route, DNS, or its state."""
    from ..net.config import read_state, summary
    line = summary(read_state())
    return f"configured: {line}" if line else None


def _serial(ctx) -> tuple[str, list]:
    base, names = _class_entries(ctx, "tty")
    rows, data, unused = [], [], 0
    for n in names:
        d = os.path.join(base, n)
        if not os.path.exists(os.path.join(d, "device")):
            continue  # virtual terminals, ptys, console aliases
        utype = _attr(os.path.join(d, "type"))
        if utype == "0":
            unused += 1  # a legacy port slot with no UART behind it
            continue
        try:
            driver = os.path.basename(os.readlink(os.path.join(d, "device", "driver")))
        except OSError:
            driver = ""
        data.append({"name": n, "driver": driver})
        rows.append([n, "/dev/" + n, driver or "-"])
    note = f" ({unused} empty port slots not shown)" if unused else ""
    if not rows:
        return "serial ports: none" + note, data
    return f"serial ports{note}:\n" + table(["NAME", "DEVICE", "DRIVER"], rows), data


def list_devices(ex, a) -> Result:
    kind = (a.get("kind") or "all").lower()
    parts = {"block": [_block], "network": [_net], "serial": [_serial],
             "all": [_block, _net, _serial]}.get(kind)
    if parts is None:
        raise ToolError(f"unknown device kind {printable(kind)!r}; use block, network, serial or all")
    texts, data = [], {}
    for fn in parts:
        t, d = fn(ex.ctx)
        texts.append(t)
        data[fn.__name__.strip("_")] = d
    return Result(True, "\n\n".join(texts), data=data)


# ---- disk_usage -----------------------------------------------------------------------
def _usage_row(label: str, where: str, real: str) -> list | None:
    try:
        s = os.statvfs(real)
    except OSError:
        return None
    total = s.f_blocks * s.f_frsize
    if total == 0:
        return None
    free = s.f_bavail * s.f_frsize
    used = (s.f_blocks - s.f_bfree) * s.f_frsize
    pct = 100.0 * used / max(used + free, 1)
    return [label, human_size(total), human_size(used), human_size(free), f"{pct:.0f}%", where,
            {"size": total, "used": used, "free": free, "percent": pct}]


def disk_usage(ex, a, paths) -> Result:
    ctx = ex.ctx
    heads = ["FILESYSTEM", "SIZE", "USED", "FREE", "USE%", "MOUNTED ON"]
    if a.get("path"):
        r = paths["path"]
        if not os.path.exists(r.real):
            raise ToolError(f"{r.shown} does not exist")
        fs = "-"
        try:
            best = ""
            for m in _mountinfo(ctx):
                if under(r.real, m.target) and len(m.target) >= len(best):
                    best, fs = m.target, f"{m.source} ({m.fstype})"
        except ToolError:
            pass
        row = _usage_row(fs, r.console, r.real)
        if row is None:
            raise ToolError(f"cannot get the size of the filesystem holding {r.shown}")
        return Result(True, table(heads[:5] + ["PATH"], [row[:6]], right={1, 2, 3, 4}), data=row[6])
    rows, top = [], {}
    for m in _mountinfo(ctx):
        top[m.target] = m  # the last mount on a path is the visible one
    seen = set()
    for m in top.values():
        if m.fstype in PSEUDO_FS or (m.device, m.root) in seen:
            continue
        seen.add((m.device, m.root))
        row = _usage_row(f"{m.source} ({m.fstype})", m.target, m.target)
        if row:
            rows.append(row)
    if not rows:
        return Result(True, "no mounted filesystems with a size", data=[])
    return Result(True, table(heads, [r[:6] for r in rows], right={1, 2, 3, 4}),
                  data=[dict(r[6], mount=r[5]) for r in rows])


# ---- mount / unmount ------------------------------------------------------------------
def prepare_mount(ex, a, paths):
    """The mount point, refused where a mount would hide something the console relies on:
    the root, protected paths, the data partition (or anything above it), its audit log
    and its trash, a mount point already in use, or a directory that holds files."""
    not_on_host(ex.ctx, "mount")
    ctx = ex.ctx
    t = paths["target"]
    for q in ctx.protected:
        if under(t.console, q) and (q != "/" or t.console == "/"):
            raise SafetyError(f"{t.shown} is a protected system path; choose another mount point")
    data = os.path.realpath(ctx.real_data_dir)
    if under(data, t.real):
        raise SafetyError(f"mounting at {t.shown} would hide the data partition ({printable(ctx.data_dir)}) "
                          "and every file on it; choose an empty directory such as /data/media/usb")
    for sub, what in (("log", "audit log"), ("trash", "trash")):
        if under(t.real, os.path.join(data, sub)):
            raise SafetyError(f"{t.shown} belongs to the console's {what}; a mount there would hide it")
    if not os.path.isdir(t.real):
        raise ToolError(f"mount point {t.shown} is not a directory")
    try:
        in_use = [m for m in _mountinfo(ctx) if m.target == t.real]
    except ToolError:
        in_use = []
    if in_use or os.path.ismount(t.real):
        what = f" ({printable(in_use[-1].source)}, {printable(in_use[-1].fstype)})" if in_use else ""
        raise SafetyError(f"{t.shown} is already a mount point{what}; unmount it first or choose another")
    try:
        entries = os.listdir(t.real)
    except OSError as e:
        raise ToolError(f"mount point {t.shown}: {e.strerror}") from None
    if entries:
        raise SafetyError(f"{t.shown} is not empty ({len(entries)} entries); a mount would hide them. "
                          "Choose an empty directory")
    return t


def preview_mount(ex, a, t) -> str:
    dev = str(a["device"])
    what = ""
    try:
        st = os.stat(dev)
        if stat.S_ISBLK(st.st_mode):
            size = int(_attr(os.path.join(ex.ctx.sysfs, "class", "block", os.path.basename(dev), "size"), "0") or 0)
            what = f" (block device{', ' + human_size(size * 512) if size else ''})"
        else:
            what = " (not a block device)"
    except OSError:
        what = " (no such device file: a kernel filesystem name such as tmpfs)" if "/" not in dev else " (does not exist)"
    fstype = a.get("fstype")
    how = f"as {printable(str(fstype))}" if fstype else "with the first filesystem type that fits"
    return f"mount {printable(dev)}{what} at {t.shown} (an empty directory), {how}"


def _fstypes(ctx) -> list[str]:
    try:
        with open(os.path.join(ctx.procfs, "filesystems")) as f:
            return [ln.split()[-1] for ln in f if ln.strip() and not ln.startswith("nodev")]
    except OSError:
        return ["ext4", "vfat", "iso9660", "squashfs", "btrfs", "xfs"]


def mount(ex, a, t) -> Result:
    dev = str(a["device"])
    fstype = a.get("fstype")
    mounts = sys_layer("mounts")
    if fstype:
        mounts.mount(dev, t.real, fstype, 0, None)
        used = fstype
    else:
        errors = []
        for fs in _fstypes(ex.ctx):
            try:
                mounts.mount(dev, t.real, fs, mounts.MS_SILENT, None)
                used = fs
                break
            except OSError as e:
                errors.append(f"{fs}: {e.strerror or e}")
        else:
            raise ToolError(f"could not mount {printable(dev)}: no filesystem type worked "
                            f"({'; '.join(errors[:4]) or 'none to try'})")
    return Result(True, f"mounted {printable(dev)} ({used}) at {t.shown}")


def prepare_unmount(ex, a, paths):
    """(mount point, its mountinfo entry), refused for the root, protected paths and the
    console's data."""
    not_on_host(ex.ctx, "unmount")
    t = paths["target"]
    if t.console in ("/",) or any(under(t.console, q) for q in ex.ctx.protected if q != "/"):
        raise SafetyError(f"{t.shown} is a protected system path; it stays mounted")
    if under(ex.ctx.real_data_dir, t.real):
        raise SafetyError(f"{t.shown} holds the console's data (trash and audit log); it stays mounted")
    entry = None
    for m in _mountinfo(ex.ctx):
        if m.target == t.real:
            entry = m
    if entry is None:
        raise ToolError(f"nothing is mounted at {t.shown}")
    return t, entry


def preview_unmount(ex, a, plan) -> str:
    t, m = plan
    return f"unmount {t.shown} ({printable(m.source)}, {m.fstype})"


def unmount(ex, a, plan) -> Result:
    t, m = plan
    mounts = sys_layer("mounts")
    try:
        mounts.umount(t.real, 0)
    except OSError as e:
        import errno
        if e.errno == errno.EBUSY:
            raise ToolError(f"{t.shown} is busy (a program or the console's current directory "
                            "is using it)") from None
        raise
    if under(ex.ctx.real_cwd, t.real):
        ex.ctx.cwd = t.console
    return Result(True, f"unmounted {t.shown} ({printable(m.source)})")


# ---- network links --------------------------------------------------------------------
def _iface(ex, a) -> str:
    name = str(a.get("interface", "")).strip()
    if not name or "/" in name or name in (".", "..") or len(name) > 15:
        raise SafetyError(f"bad interface name {printable(name)!r}")
    if not os.path.exists(os.path.join(ex.ctx.sysfs, "class", "net", name)):
        _, have = _class_entries(ex.ctx, "net")
        raise ToolError(f"no network interface {printable(name)}"
                        + (f" (there are: {', '.join(have)})" if have else ""))
    return name


def prepare_link(ex, a, paths) -> str:
    """link_up's and link_down's prepare step: the interface's name."""
    not_on_host(ex.ctx, "changing a network link")
    return _iface(ex, a)


def link_up(ex, a, name) -> Result:
    sys_layer("netif").link_up(name)
    return Result(True, f"{name} is up")


def _link_state(ex, name: str) -> str:
    """'now up, carrier up, 10.0.2.15/24' from /sys and the interface's addresses."""
    _, rows = _net(ex.ctx)
    row = next((r for r in rows if r["name"] == name), None)
    if row is None:
        return "state unknown"
    addrs = ", ".join(row["addresses"]) or "no address"
    return f"now {'up' if row['up'] else 'down'}, state {printable(row['state'])}, {printable(addrs)}"


def preview_link_up(ex, a, name) -> str:
    return f"bring network interface {name} up ({_link_state(ex, name)})"


def preview_link_down(ex, a, name) -> str:
    return f"bring network interface {name} down ({_link_state(ex, name)})"


def link_down(ex, a, name) -> Result:
    sys_layer("netif").link_down(name)
    return Result(True, f"{name} is down")


EXECUTORS = {"list_devices": list_devices, "disk_usage": disk_usage, "mount": mount,
             "unmount": unmount, "link_up": link_up, "link_down": link_down}
PREVIEWS = {"unmount": preview_unmount, "link_down": preview_link_down, "mount": preview_mount,
            "link_up": preview_link_up}
# prepare steps (executor.PREPARES): their previews and executors take the plan they give
PREPARES = {"mount": prepare_mount, "unmount": prepare_unmount, "link_up": prepare_link,
            "link_down": prepare_link, "disk_usage": resolved_paths}
