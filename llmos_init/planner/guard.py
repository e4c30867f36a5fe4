"""The planner's own safety rule: a destructive tool only when the request asks for that effect.

Every plan passes through `guard_plan`, whichever path produced it (parser or model). A
destructive action survives only when its step's text carries an explicit verb for that
effect, is not a question about the action, and the verb is not negated. Anything else is
replaced by a `clarify` that names what was not done.
"""
from __future__ import annotations

import re

from ..tools.registry import DESTRUCTIVE, TOOLS

# Per destructive tool: the words that ask for its effect (any language the parser knows).
EXPLICIT_VERBS: dict[str, str] = {
    "remove": r"delete|delte|remove|erase|rm|rmdir|del|unlink|trash|wipe|nuke|get rid of|throw away|"
              r"destroy|borra|elimina|l[öo]sche|supprime|efface|rd|scrap|zap|purge|ditch|axe|shred",
    "move": r"move|mvoe|mv|rename|relocate|put|ren",
    "write_file": r"write|create|make|new|overwrite|save|put|store|touch|echo|erstelle|cr[ée]e|crea",
    "append_file": r"append|apend|add|echo|tack|f[üu]ge",
    "kill_process": r"kill|kil|killall|pkill|terminate|stop|end|pause|suspend|resume|continue|interrupt|"
                    r"signal|send|beende|shut down|sig\w+|force kill|reload|hup|usr1|usr2",
    "start_program": r"run|execute|launch|start|kick off|exec|fire up|spin up|boot up|invoke|trigger",
    "unmount": r"unmount|umount|eject|detach|release",
    "link_down": r"down|disable|deactivate|off|cut|shut|ifdown|disconnect",
    "set_time": r"set|change|adjust|date -s|date --set",
    "set_hostname": r"hostname|host name|call|name|rename",
    "reboot": r"reboot|rebooot|restart|starte neu|red[ée]marre",
    "poweroff": r"poweroff|power off|power down|shut ?down|halt|switch off|turn off|turn the \w+ off|[ée]teins|"
                r"shut (?:it|everything|it all|the (?:whole )?(?:thing|system|machine|box)) (?:all )?down",
}
assert set(EXPLICIT_VERBS) == set(DESTRUCTIVE), "every destructive tool needs its explicit verbs"


def asks_for(tool: str, text: str) -> bool:
    """True when `text` (one step, negations already removed) explicitly asks for `tool`."""
    if tool not in DESTRUCTIVE:
        return True
    if tool == "start_program" and re.match(r"\s*\.{0,2}/", text):
        return True  # a command line that names an executable by its path
    pattern = EXPLICIT_VERBS[tool]
    return re.search(r"(?<![\w/.-])(?:%s)(?![\w/.-])" % pattern, text.lower()) is not None


def guard_plan(steps: list[tuple[str, list[dict]]], forbid_destructive: bool = False) -> list[dict]:
    """Flatten (step text, actions) pairs, replacing destructive actions nobody asked for."""
    out: list[dict] = []
    for text, actions in steps:
        for a in actions:
            tool = a["tool"]
            if tool in DESTRUCTIVE and (forbid_destructive or not asks_for(tool, text)):
                out = [a2 for a2 in out]  # keep what was planned before
                out.append({"tool": "clarify", "args": {
                    "question": f"Did you want me to {TOOLS[tool].summary.split(' (')[0]}? "
                                f"Say so explicitly and I will."}})
                continue
            out.append(a)
    return out


def unsafe_actions(plan: list[dict], allowed: set[str]) -> list[str]:
    """Destructive tools in `plan` that are not in `allowed` (used by the evaluation)."""
    return [a["tool"] for a in plan if a["tool"] in DESTRUCTIVE and a["tool"] not in allowed]
