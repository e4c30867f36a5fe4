import pytest

from bench.serial import (StampedLog, boot_marks, model_statuses, parse_process_table,
                          parse_size)

# A shortened real serial log of an llmos boot: (host arrival seconds, line).
LOG = [
    (1.40, "[    0.000000] Linux version 6.1.192 (root@vm) #1 SMP"),
    (1.40, "[    0.125639] Kernel command line: console=ttyS0,115200"),
    (1.41, "[    0.208998] printk: console [ttyS0] enabled"),
    (3.20, "[    2.000000] Serial: 8250/16550 driver, 4 ports"),
    (5.40, "[    4.184164] Run /sbin/init as init process"),
    (7.50, "[   6.229s] llmos init: boot (kernel took 6.227 s to start init)"),
    (7.52, "[   6.235s] mount /proc ... ok (722 ms)"),
    (9.00, "[    7.247266] EXT4-fs (vdc): mounted filesystem with ordered data mode."),
    (9.10, "[   7.708s] boot finished in 7.707 s since kernel start (1480 ms in init)"),
    (9.20, "\x1b[1mllmos on llmos, booted in 7.7 s, up 10.1 s\x1b[0m"),
    (9.21, "model: loading"),
]


def test_boot_marks_from_a_real_log():
    m = boot_marks(LOG)
    # kernel start: the smallest (arrival - printk time): 3.20 - 2.0 = 1.2 (the lines
    # replayed when the console came up, 1.40 - 0.0, arrive late and do not count)
    assert m.kernel_start == pytest.approx(1.2, abs=1e-6)
    assert m.first_kernel_line == 1.40
    assert m.pid1_start == 5.40 and m.init_path == "/sbin/init"
    assert m.init_first_line == 7.50
    assert m.guest_boot_finished == pytest.approx(7.707)
    assert m.kernel_lines == 6


def test_boot_marks_of_a_log_without_kernel_lines():
    m = boot_marks([(0.5, "SeaBIOS (version 1.16)"), (1.0, "[   6.2s] not after init")])
    assert m.kernel_start is None and m.pid1_start is None and m.init_first_line is None


def test_stamped_log_stamps_complete_lines(tmp_path):
    clock = iter([10.0, 10.5, 11.0, 12.0]).__next__
    log = StampedLog(tmp_path / "s.log", clock=clock)   # t0 = 10.0
    log.write("[    0.1] a\r\n[    0.2] b")
    log.write("-continued\r\nprompt> ")
    log.flush()
    assert log.lines == [(0.5, "[    0.1] a"), (1.0, "[    0.2] b-continued")]
    log.close()
    assert (tmp_path / "s.log").read_bytes() == b"[    0.1] a\r\n[    0.2] b-continued\r\nprompt> "


def test_model_statuses_ignore_styles():
    text = "banner\r\nmodel: loading\r\nllmos:/data> \r\n\x1b[2mmodel: ready\x1b[0m\r\nllmos:/data> "
    assert model_statuses(text) == ["loading", "ready"]
    assert model_statuses("no status here") == []


def test_parse_size():
    assert parse_size("512 B") == 512
    assert parse_size("19 MiB") == 19 << 20
    assert parse_size("1.5 GiB") == 3 << 29
    with pytest.raises(ValueError):
        parse_size("19MB")


def test_parse_process_table():
    out = ("list processes\r\r\n\x1b[36m→ list_processes\x1b[0m\r\r\n"
           "2 processes (+34 kernel threads not shown)\r\r\n"
           "PID  NAME        STATE      CPU%      RSS  COMMAND\r\r\n"
           "  1  init        sleeping    1.6   19 MiB  /usr/bin/python3.11 -IXutf8 /sbin/init\r\r\n"
           " 38  python3.11  disk sleep  192.9  225 MiB  /usr/bin/python3.11 -I -m llmos_init console\r\r\n"
           "llmos:/data> ")
    rows = parse_process_table(out)
    assert [r["pid"] for r in rows] == [1, 38]
    assert rows[0]["rss"] == 19 << 20 and rows[0]["command"].endswith("/sbin/init")
    assert rows[1]["state"] == "disk sleep" and rows[1]["cpu"] == pytest.approx(192.9)
    assert rows[1]["rss"] == 225 << 20
