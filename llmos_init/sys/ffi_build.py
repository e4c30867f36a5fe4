"""cffi (API mode) builder for ``llmos_init.sys._llmos_sys``.

Build-time only: this module runs on the build host (it needs the ``cffi``
package and a C compiler), never inside the image.

Every struct below is declared with ``...;`` and every integer type whose
width is libc/arch dependent with ``typedef int... T;``: the C compiler, reading
the real libc/kernel headers of the target, decides layouts and values.  The
same declarations therefore work unchanged for x86_64 and aarch64.

The C source is kept to the headers plus a few wrappers where C needs one:
``ioctl``/``prctl`` are variadic (one typed wrapper per argument type).

Command line (used by the image builder, and by hand on a dev host)::

    python -m llmos_init.sys.ffi_build --out DIR [--cc CC] \
        [--ext-suffix .cpython-311-aarch64-linux-gnu.so] [--include DIR ...]

writes ``DIR/_llmos_sys<ext-suffix>``.  Defaults: DIR is this package's
directory, CC is ``$CC`` or ``cc``, the suffix is the running Python's.
``--include`` directories are searched before the running Python's include
directory; when cross compiling pass the *target* Python's include dirs (the
ones holding ``Python.h`` and its ``pyconfig.h``) there.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import shlex
import subprocess  # build-time only: runs the C compiler on the build host
import sys
import sysconfig
import tempfile
from pathlib import Path

MODULE_NAME = "llmos_init.sys._llmos_sys"
BASENAME = "_llmos_sys"

CDEF = r"""
/* ---- integer types whose width the compiler decides ---- */
typedef int... time_t;
typedef int... clockid_t;
typedef int... sa_family_t;
typedef int... in_port_t;
typedef int... in_addr_t;
typedef int... fsblkcnt_t;
typedef int... fsfilcnt_t;
typedef int... __fsword_t;
typedef int... __kernel_long_t;
typedef int... __kernel_ulong_t;

/* ---- build identity ---- */
const char *llmos_ffi_source_hash(void);

/* ---- errno-free helpers ---- */
#define IFNAMSIZ ...

/* ---- mount(2), umount2(2) ---- */
int mount(const char *source, const char *target, const char *filesystemtype,
          unsigned long mountflags, const void *data);
int umount2(const char *target, int flags);
#define MS_RDONLY ...
#define MS_NOSUID ...
#define MS_NODEV ...
#define MS_NOEXEC ...
#define MS_SYNCHRONOUS ...
#define MS_REMOUNT ...
#define MS_MANDLOCK ...
#define MS_DIRSYNC ...
#define MS_NOATIME ...
#define MS_NODIRATIME ...
#define MS_BIND ...
#define MS_MOVE ...
#define MS_REC ...
#define MS_SILENT ...
#define MS_UNBINDABLE ...
#define MS_PRIVATE ...
#define MS_SLAVE ...
#define MS_SHARED ...
#define MS_RELATIME ...
#define MS_STRICTATIME ...
#define MS_LAZYTIME ...
#define MNT_FORCE ...
#define MNT_DETACH ...
#define MNT_EXPIRE ...
#define UMOUNT_NOFOLLOW ...

/* ---- reboot(2) ---- */
int reboot(int howto);
#define RB_AUTOBOOT ...
#define RB_HALT_SYSTEM ...
#define RB_ENABLE_CAD ...
#define RB_DISABLE_CAD ...
#define RB_POWER_OFF ...
#define RB_SW_SUSPEND ...
#define RB_KEXEC ...
/* reboot(2) with an argument (LINUX_REBOOT_CMD_RESTART2): glibc's reboot() takes none */
int llmos_reboot_restart2(const char *arg);

/* ---- host name, sync, sysinfo(2), statfs(2) ---- */
int sethostname(const char *name, size_t len);
void sync(void);
int syncfs(int fd);
struct sysinfo {
    __kernel_long_t uptime;
    __kernel_ulong_t loads[3];
    __kernel_ulong_t totalram;
    __kernel_ulong_t freeram;
    __kernel_ulong_t sharedram;
    __kernel_ulong_t bufferram;
    __kernel_ulong_t totalswap;
    __kernel_ulong_t freeswap;
    unsigned short procs;
    __kernel_ulong_t totalhigh;
    __kernel_ulong_t freehigh;
    unsigned int mem_unit;
    ...;
};
int sysinfo(struct sysinfo *info);
#define SI_LOAD_SHIFT ...
struct statfs {
    __fsword_t f_type;
    __fsword_t f_bsize;
    fsblkcnt_t f_blocks;
    fsblkcnt_t f_bfree;
    fsblkcnt_t f_bavail;
    fsfilcnt_t f_files;
    fsfilcnt_t f_ffree;
    __fsword_t f_namelen;
    __fsword_t f_frsize;
    __fsword_t f_flags;
    ...;
};
int statfs(const char *path, struct statfs *buf);
int fstatfs(int fd, struct statfs *buf);

/* ---- prctl(2), unshare(2) ---- */
int llmos_prctl(int option, unsigned long arg2, unsigned long arg3,
                unsigned long arg4, unsigned long arg5);
#define PR_SET_CHILD_SUBREAPER ...
#define PR_GET_CHILD_SUBREAPER ...
#define PR_SET_NAME ...
#define PR_GET_NAME ...
#define PR_SET_PDEATHSIG ...
#define PR_GET_PDEATHSIG ...
#define PR_SET_MM ...
#define PR_SET_MM_ARG_START ...
#define PR_SET_MM_ARG_END ...
int unshare(int flags);
#define CLONE_NEWNS ...
#define CLONE_NEWUTS ...
#define CLONE_NEWIPC ...
#define CLONE_NEWUSER ...
#define CLONE_NEWPID ...
#define CLONE_NEWNET ...
#define CLONE_NEWCGROUP ...
#define CLONE_FILES ...
#define CLONE_FS ...

/* ---- ioctl(2): one typed wrapper per argument kind ---- */
/* struct winsize: no wrapper takes it (the console reads its size with termios); kept as
   the probe of compiler-determined layouts the build test checks */
struct winsize {
    unsigned short ws_row;
    unsigned short ws_col;
    unsigned short ws_xpixel;
    unsigned short ws_ypixel;
    ...;
};
struct sockaddr { sa_family_t sa_family; ...; };
struct in_addr { in_addr_t s_addr; };
struct sockaddr_in {
    sa_family_t sin_family;
    in_port_t sin_port;
    struct in_addr sin_addr;
    ...;
};
/* glibc spells these members as macros over two unions; the compiler
   resolves them, so here they read as (overlapping) plain fields. */
struct ifreq {
    char ifr_name[...];
    short ifr_flags;
    int ifr_ifindex;
    int ifr_mtu;
    struct sockaddr ifr_addr;
    struct sockaddr ifr_netmask;
    struct sockaddr ifr_broadaddr;
    ...;
};
struct rtc_time {
    int tm_sec;
    int tm_min;
    int tm_hour;
    int tm_mday;
    int tm_mon;
    int tm_year;
    int tm_wday;
    int tm_yday;
    int tm_isdst;
    ...;
};
struct watchdog_info {
    uint32_t options;
    uint32_t firmware_version;
    uint8_t identity[...];
    ...;
};
int llmos_ioctl_int(int fd, unsigned long request, int arg);
int llmos_ioctl_intp(int fd, unsigned long request, int *arg);
int llmos_ioctl_ifreq(int fd, unsigned long request, struct ifreq *arg);
int llmos_ioctl_rtc_time(int fd, unsigned long request, struct rtc_time *arg);
int llmos_ioctl_watchdog_info(int fd, unsigned long request, struct watchdog_info *arg);
#define SIOCGIFFLAGS ...
#define SIOCSIFFLAGS ...
#define SIOCGIFADDR ...
#define SIOCSIFADDR ...
#define SIOCGIFNETMASK ...
#define SIOCSIFNETMASK ...
#define SIOCGIFMTU ...
#define SIOCGIFINDEX ...
#define IFF_UP ...
#define IFF_BROADCAST ...
#define IFF_LOOPBACK ...
#define IFF_POINTOPOINT ...
#define IFF_RUNNING ...
#define IFF_NOARP ...
#define IFF_PROMISC ...
#define IFF_MULTICAST ...
#define RTC_RD_TIME ...
#define RTC_SET_TIME ...
#define WDIOC_GETSUPPORT ...
#define WDIOC_KEEPALIVE ...
#define WDIOC_SETTIMEOUT ...
#define WDIOC_GETTIMEOUT ...
#define WDIOC_GETTIMELEFT ...

/* ---- clock_settime(2) ---- */
struct timespec { time_t tv_sec; long tv_nsec; ...; };
int clock_settime(clockid_t clockid, const struct timespec *tp);
int clock_gettime(clockid_t clockid, struct timespec *tp);
#define CLOCK_REALTIME ...
"""

C_SOURCE_TEMPLATE = r"""
#define _GNU_SOURCE 1
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/sysinfo.h>
#include <sys/vfs.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <net/if.h>
#include <linux/rtc.h>
#include <linux/watchdog.h>
#include <linux/reboot.h>
#include <sys/syscall.h>

static const char *llmos_ffi_source_hash(void) { return "@HASH@"; }

static int llmos_prctl(int option, unsigned long a2, unsigned long a3,
                       unsigned long a4, unsigned long a5)
{ return prctl(option, a2, a3, a4, a5); }

static int llmos_reboot_restart2(const char *arg)
{ return (int)syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
                      LINUX_REBOOT_CMD_RESTART2, arg); }

static int llmos_ioctl_int(int fd, unsigned long req, int arg)
{ return ioctl(fd, req, arg); }
static int llmos_ioctl_intp(int fd, unsigned long req, int *arg)
{ return ioctl(fd, req, arg); }
static int llmos_ioctl_ifreq(int fd, unsigned long req, struct ifreq *arg)
{ return ioctl(fd, req, arg); }
static int llmos_ioctl_rtc_time(int fd, unsigned long req, struct rtc_time *arg)
{ return ioctl(fd, req, arg); }
static int llmos_ioctl_watchdog_info(int fd, unsigned long req, struct watchdog_info *arg)
{ return ioctl(fd, req, arg); }
"""


def source_hash() -> str:
    """Hash of this file: identifies which declarations a built module has."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def make_builder():
    """Return the configured ``cffi.FFI`` builder (imports cffi lazily)."""
    import cffi

    ffibuilder = cffi.FFI()
    ffibuilder.cdef(CDEF)
    ffibuilder.set_source(MODULE_NAME, C_SOURCE_TEMPLATE.replace("@HASH@", source_hash()))
    return ffibuilder


def host_ext_suffix() -> str:
    return sysconfig.get_config_var("EXT_SUFFIX") or ".so"


def host_python_includes() -> list[str]:
    paths = sysconfig.get_paths()
    out: list[str] = []
    for key in ("include", "platinclude"):
        p = paths.get(key)
        if p and p not in out:
            out.append(p)
    return out


def default_cc() -> str:
    return os.environ.get("CC") or "cc"


def emit_c(path: str | os.PathLike) -> Path:
    """Write the generated C source (for an external toolchain) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    builder = make_builder()
    with contextlib.redirect_stdout(io.StringIO()):  # cffi prints "generating ..."
        builder.emit_c_code(str(path))
    return path


def compile_command(c_file: str, output: str, cc: str, includes: list[str],
                    python_includes: list[str], extra_cflags: list[str]) -> list[str]:
    cmd = shlex.split(cc) + ["-shared", "-fPIC", "-O2", "-Wall", "-Wno-unused-function",
                             "-fno-strict-aliasing"]
    for inc in list(includes) + list(python_includes):
        cmd += ["-I", str(inc)]
    cmd += list(extra_cflags) + [c_file, "-o", output]
    return cmd


def build(out_dir: str | os.PathLike | None = None, *, cc: str | None = None,
          ext_suffix: str | None = None, includes: list[str] | tuple = (),
          python_includes: list[str] | None = None, extra_cflags: list[str] | tuple = (),
          quiet: bool = False) -> Path:
    """Compile the extension into ``out_dir`` and return the path of the ``.so``.

    The output is written to a temporary name first and renamed into place,
    so a concurrent importer never sees a half-written file.
    """
    out = Path(out_dir) if out_dir is not None else Path(__file__).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    cc = cc or default_cc()
    suffix = ext_suffix or host_ext_suffix()
    if not suffix.endswith(".so"):
        raise ValueError(f"--ext-suffix must end in .so, got {suffix!r}")
    if python_includes is None:
        python_includes = host_python_includes()
    target = out / f"{BASENAME}{suffix}"
    with tempfile.TemporaryDirectory(prefix="llmos-ffi-", dir=out) as tmp:
        c_file = emit_c(Path(tmp) / f"{BASENAME}.c")
        tmp_so = Path(tmp) / target.name
        cmd = compile_command(str(c_file), str(tmp_so), cc, list(includes),
                              list(python_includes), list(extra_cflags))
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            raise RuntimeError(
                f"compiling {BASENAME} failed (exit {proc.returncode}): "
                f"{shlex.join(cmd)}\n{proc.stdout}")
        if proc.stdout and not quiet:
            sys.stderr.write(proc.stdout)
        os.replace(tmp_so, target)
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m llmos_init.sys.ffi_build",
        description="Compile the llmos cffi syscall extension (_llmos_sys).")
    ap.add_argument("--out", default=None,
                    help="output directory (default: the llmos_init/sys package directory)")
    ap.add_argument("--cc", default=None, help="C compiler command (default: $CC or cc)")
    ap.add_argument("--ext-suffix", default=None,
                    help=f"extension file suffix (default: {host_ext_suffix()})")
    ap.add_argument("--include", action="append", default=[], metavar="DIR",
                    help="extra include directory, searched before the running Python's "
                         "include dir (repeatable); for a cross build give the target "
                         "Python's include dirs")
    ap.add_argument("--no-host-python-include", action="store_true",
                    help="do not add the running Python's include dirs")
    ap.add_argument("--cflag", action="append", default=[], metavar="FLAG",
                    help="extra compiler flag (repeatable), e.g. --cflag=--sysroot=/x")
    ap.add_argument("--emit-c", default=None, metavar="FILE",
                    help="only write the generated C source to FILE, do not compile")
    args = ap.parse_args(argv)

    if args.emit_c:
        print(emit_c(args.emit_c))
        return 0
    try:
        target = build(args.out, cc=args.cc, ext_suffix=args.ext_suffix,
                       includes=args.include,
                       python_includes=[] if args.no_host_python_include else None,
                       extra_cflags=args.cflag)
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"ffi_build: {exc}", file=sys.stderr)
        return 1
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
