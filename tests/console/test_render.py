"""The renderer: untrusted text made safe, and the console's own line formats."""
from llmos_init.console import render


def test_controls_are_escaped_and_ansi_is_stripped():
    hostile = "name\x1b]0;pwned\x07.txt\x1b[2J\x1b[31mred\x1b[0m\x00\x07\x9b\u202eevil\r\x7f"
    out = render.terminal_safe(hostile)
    assert "\x1b" not in out and "\x07" not in out and "\x00" not in out and "\x9b" not in out
    assert "\u202e" not in out and "\r" not in out and "\x7f" not in out
    assert out.startswith("name.txtred\\x00\\x07\\x9b\\u202eevil\\x0d\\x7f")


def test_stray_escape_is_escaped_even_when_split_across_tokens():
    assert render.terminal_safe("\x1b") == "\\x1b"
    assert render.terminal_safe("[2J") == "[2J"


def test_newlines_and_tabs_kept_crlf_normalised():
    assert render.terminal_safe("a\tb\r\nc\n") == "a\tb\nc\n"
    assert render.terminal_safe("a\nb", keep_newlines=False) == "a\\x0ab"


def test_format_action():
    assert render.format_action({"tool": "list_dir", "args": {"path": "/data"}}) == "→ list_dir /data"
    assert (render.format_action({"tool": "move", "args": {"src": "/a", "dst": "/b c"}})
            == '→ move /a "/b c"')
    assert (render.format_action({"tool": "kill_process", "args": {"pid": 12, "signal": "KILL"}})
            == "→ kill_process pid=12 signal=KILL")
    assert (render.format_action({"tool": "write_file", "args": {"path": "/x\x1b[2J", "text": "hi there"}})
            == '→ write_file /x "hi there"')
    long = render.format_action({"tool": "write_file", "args": {"path": "/x", "text": "a" * 500}})
    assert len(long) < 100 and long.endswith('…"')
    assert render.format_action({"tool": "system_info", "args": {}}) == "→ system_info"
    assert (render.format_action({"tool": "append_file", "args": {"path": "/l", "text": "eggs"}})
            == '→ append_file /l "eggs"')
    assert (render.format_action({"tool": "start_program", "args": {"path": "/p", "args": ["-v", "x"]}})
            == "→ start_program /p args=-v x")


def test_refusal_and_errors():
    r = render.format_refusal({"tool": "remove", "args": {"path": "/proc"}}, "/proc is protected")
    assert r == "refused: remove /proc: /proc is protected"
    assert render.format_exception(ValueError("bad\x1b[2J")) == "error: ValueError: bad"


def test_prompt_shortens_long_directories():
    assert render.format_prompt("box", "/data") == "box:/data> "
    p = render.format_prompt("box", "/data/" + "d" * 200, columns=80)
    assert p.endswith("ddd> ") and "…" in p and render.text_width(p) <= 45
    assert render.format_prompt("b\x07x", "/") == "b\\x07x:/> "


def test_widths_and_sizes():
    assert render.text_width("日本a") == 5
    assert render.text_width("e\u0301") == 1
    assert render.human_size(512) == "512 B"
    assert render.human_size(3 * 1024 ** 3) == "3.0 GiB"
    assert render.human_duration(3.25) == "3.2 s"
    assert render.human_duration(3700) == "1 h 1 min"


def test_style_only_on_ansi():
    assert render.style("x", "red", False) == "x"
    assert render.style("x", "red", True) == "\x1b[31mx\x1b[0m"
