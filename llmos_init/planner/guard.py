"""The planner's own safety rule: a destructive tool only when the request asks for that effect.

Every plan passes through `guard_plan`, whichever path produced it (parser or model). A
destructive action survives only when its step's text carries an explicit verb for that
effect, is not a question about the action, and the verb is not negated. Anything else is
replaced by a `clarify` that names what was not done.
"""
from __future__ import annotations

import re

from ..tools.registry import DESTRUCTIVE, TOOLS
from .grounding import URL

# Per destructive tool: the words that ask for its effect (any language the parser knows).
EXPLICIT_VERBS: dict[str, str] = {
    "remove": r"delete|delte|remove|erase|rm|rmdir|del|unlink|trash|wipe|nuke|get rid of|throw away|"
              r"destroy|borra|elimina|l[öo]sche|supprime|efface|rd|scrap|zap|purge|ditch|axe|shred",
    "move": r"move|mvoe|mv|rename|relocate|put|ren",
    "write_file": r"write|create|make|new|overwrite|save|put|store|touch|echo|erstelle|cr[ée]e|crea",
    "append_file": r"append|apend|add|echo|tack|f[üu]ge",
    "kill_process": r"kill|kil|killall|pkill|terminate|stop|end|pause|suspend|resume|continue|interrupt|freeze|thaw|unpause|"
                    r"signal|send|beende|shut down|sig\w+|force kill|reload|hup|usr1|usr2",
    "start_program": r"run|execute|launch|start|kick off|exec|fire up|spin up|boot up|invoke|trigger",
    "unmount": r"unmount|umount|eject|detach|release",
    "link_down": r"down|disable|deactivate|off|cut|shut|ifdown|disconnect",
    "set_time": r"set|change|adjust|date -s|date --set",
    "set_hostname": r"hostname|host name|call|name|rename",
    "reboot": r"reboot|rebooot|restart|starte neu|red[ée]marre",
    "poweroff": r"poweroff|power off|power down|shut ?down|halt|switch off|turn off|turn the \w+ off|[ée]teins|"
                r"shut (?:it|everything|it all|the (?:whole )?(?:thing|system|machine|box)) (?:all )?down",
    "install_update": r"install|apply|update|upgrade",
}
assert set(EXPLICIT_VERBS) == set(DESTRUCTIVE), "every destructive tool needs its explicit verbs"
# The same in Chinese, which has no spaces: found anywhere in the step.
EXPLICIT_VERBS_ZH: dict[str, str] = {
    "remove": r"删除|删掉|删了|删去|移除|去掉|扔掉|回收站|删",
    "move": r"移动|移到|移至|挪|搬|转移|重命名|改名|更名",
    "write_file": r"写入|写进|写到|写上|创建|新建|建立|覆盖",
    "append_file": r"追加|添加|加上|附加|加到|加进",
    "kill_process": r"杀|结束|终止|停止|关闭|干掉|退出|暂停|挂起|冻结|恢复|继续|中断|重新加载|重载|发送",
    "start_program": r"运行|启动|执行",
    "unmount": r"卸载|取消挂载|弹出|卸下",
    "link_down": r"禁用|关闭|停用|关掉",
    "set_time": r"设置|设为|设成|改为|改成|调到|调整|设",
    "set_hostname": r"主机名|机器名|设备名",
    "reboot": r"重启|重新启动",
    "poweroff": r"关机|断电|关掉|关闭|关了",
    "install_update": r"安装|应用|更新|升级",
}
assert set(EXPLICIT_VERBS_ZH) == set(DESTRUCTIVE)


# A verb typed with one slip ("delet old.log", "remvoe a.txt", "unmuont /mnt") still asks
# for its effect, which the confirmation then names; a real word one slip away ("remote",
# "wrote") or an inflection ("deleted", "removes": a statement, not a request) does not.
_NOT_TYPOS = frozenset({"remote", "wrote", "remover", "crate", "rewrite", "reset", "starts", "stare",
                        "smart", "debate", "relate", "dilute", "delta", "deplete"})


def _one_slip(a: str, b: str) -> bool:
    """Optimal string alignment distance of exactly 1 (one letter added, dropped, changed,
    or two neighbours swapped)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                   and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _typed_with_a_slip(tool: str, text: str) -> bool:
    verbs = [v for v in re.findall(r"[a-z]+", EXPLICIT_VERBS[tool]) if len(v) >= 5]
    for w in re.findall(r"(?<![\w/.-])([a-z]{4,})(?![\w/.-])", text.lower()):
        if w in _NOT_TYPOS:
            continue
        if any(not w.startswith(v) and _one_slip(w, v) for v in verbs):
            return True
    return False


_END_NOUN = re.compile(r"\b(?:(?:at|in|to|by|until|till|near|the|an|no|its|this|that)\s+(?:very\s+)?end\b|"
                       r"end\s+(?:of|at|on|up|with|result|user|date|time)\b)", re.I)


def asks_for(tool: str, text: str) -> bool:
    """True when `text` (one step, negations already removed) explicitly asks for `tool`."""
    if tool not in DESTRUCTIVE:
        return True
    if tool == "start_program" and re.match(r"\s*\.{0,2}/", text):
        return True  # a command line that names an executable by its path
    pattern = EXPLICIT_VERBS[tool]
    # a verb inside a quoted name ("show 'kill 1.txt'") asks for nothing
    from .veto import QUOTED
    text = QUOTED.sub(" ", text)
    if tool == "kill_process":     # "end" as a noun: "end of story", "at the end", "the end"
        text = _END_NOUN.sub(" ", text)
    if re.search(EXPLICIT_VERBS_ZH[tool], text):
        return True
    if re.search(r"(?<![\w/.-])(?:%s)(?![\w/.-])" % pattern, text.lower()):
        return True
    return _typed_with_a_slip(tool, text)


# The words that ask for a state change that is not destructive, in any language: the
# trained model's plans (translation.implausible) must have one, since a model that plans
# one of these from a request without it ("restart the game from level 5" -> renice 5) has
# misread the request. The rules' plans come from such words already.
CHANGE_WORDS: dict[str, str] = {
    "set_priority": r"nice|renice|niceness|priorit|sched|cpu time|cpu share|优先级|nice值|调度",
    "link_up": r"(?<![a-z])(?:up|on|enable|activate|ifup|connect|start|bring|raise)(?![a-z])|启用|打开|开启|激活|连接|启动|开起来",
    "mount": r"mount|attach|hook|挂载|挂到|挂上|接到",
    "undo": r"undo|revert|take back|roll ?back|put back|reverse|restore|the way it was|before that|撤销|撤回|还原|恢复|回退|撤",
    # a model's "copy a.txt in photos to projects" once came with an unasked mkdir projects
    "make_dir": r"mkdir|make|creat|new|fresh|add|set up|prepare|(?:folder|directory|dir) (?:called|named)|建|创|弄个|弄一个|开个",
}


def asks_for_change(tool: str, text: str) -> bool:
    """True unless `tool` is one of CHANGE_WORDS' and `text` has none of its words."""
    return tool not in CHANGE_WORDS or re.search(CHANGE_WORDS[tool], text.casefold()) is not None


# Tools that only look (and change_dir, which changes the console's own state only): a
# request that must change nothing may still have them.
READ_ONLY = frozenset({"list_dir", "read_file", "file_info", "find_files", "disk_usage",
                       "change_dir", "list_processes", "system_info", "list_devices", "get_time",
                       "kernel_log", "answer", "clarify", "help"})
STATE_CHANGING = frozenset(TOOLS) - READ_ONLY

# What a question about a change gets instead: a look at the thing it asks about.
_LOOK = {"link_up": {"tool": "list_devices", "args": {"kind": "network"}},
         "link_down": {"tool": "list_devices", "args": {"kind": "network"}},
         "mount": {"tool": "list_devices", "args": {"kind": "block"}},
         "unmount": {"tool": "list_devices", "args": {"kind": "block"}},
         "kill_process": {"tool": "list_processes", "args": {}},
         "set_priority": {"tool": "list_processes", "args": {}}}


def _vetoed(tool: str, why: str, question: bool) -> dict:
    if question and tool in _LOOK:
        return dict(_LOOK[tool])
    return {"tool": "clarify", "args": {"question": f"Nothing changed: {why}."}}


def guard_plan(steps: list[tuple[str, list[dict]]], forbid_destructive: bool = False,
               request: str | None = None, data: str = "") -> list[dict]:
    """Flatten (step text, actions) pairs, replacing what the request did not ask for:
    every state change when the request as a whole says nothing may change (veto.py:
    questions, negations, reported speech, later, pasted prompts), an action its own
    wording rules out (reboot of "the screen", remove of "the last line"), and destructive
    actions without an explicit verb for their effect. `data`: the text of a write, split
    off the request and appended to its last step; no rule reads it."""
    from .veto import QUESTION, request_veto, tool_veto
    why_all = request_veto(request) if request else None
    question = why_all == QUESTION
    out: list[dict] = []
    for text, actions in steps:
        command = text[:-len(data)].rstrip() if data and text.endswith(data) else text
        urls = URL.findall(command)
        for a in actions:
            tool = a["tool"]
            made_of = _path_from_url(a, urls)
            if made_of:      # "delete the file http://host/x.txt" is no /host/x.txt
                out.append({"tool": "clarify", "args": {"question": (
                    f"Nothing changed: {made_of} is a URL, not a path; the console fetches from a "
                    "URL only to install an update (install the update http://...)")}})
                continue
            if tool in STATE_CHANGING:
                why = why_all or tool_veto(tool, a.get("args", {}), command)
                if why:
                    look = _vetoed(tool, why, question)
                    if look not in out:
                        out.append(look)
                    continue
            if tool in DESTRUCTIVE and (forbid_destructive or not asks_for(tool, command)):
                out = [a2 for a2 in out]  # keep what was planned before
                out.append({"tool": "clarify", "args": {
                    "question": f"Did you want me to {TOOLS[tool].summary.split(' (')[0]}? "
                                f"Say so explicitly and I will."}})
                continue
            out.append(a)
    return _one_power_action(out)


def _negated_objects(clause: str, cwd: str) -> set[str]:
    """The paths (as written, resolved, and their last parts) and numbers a negated
    clause names."""
    from .grounding import extract, resolve
    ents = extract(clause)
    got = {str(n) for n in ents.ints}
    for p in ents.paths:
        full = resolve(p, cwd)
        got |= {p, full, full.rstrip("/").rsplit("/", 1)[-1]}
    return got


def scoped_negations(clauses: list[str], cwd: str) -> bool:
    """Whether every negated clause says what it leaves out: a thing ("not b.txt", "don't
    touch photo.jpg", "never mind 42") or a destructive tool ("but don't reboot", "do not
    remove anything"). "don't do it", "never mind", "don't bother" leave out the request
    itself, whatever else it says."""
    return bool(clauses) and all(_negated_objects(c, cwd) or any(asks_for(t, _bare(c)) for t in DESTRUCTIVE)
                                 for c in clauses)


def _bare(clause: str) -> str:
    return clause.strip(" ,.;:!?，。；：！？")


def outside_negations(plan: list[dict], clauses: list[str], cwd: str) -> str | None:
    """Why `plan` does what a negated clause leaves out, or None: a state change of a thing
    a clause names, or a destructive tool a clause that names no thing asks for."""
    for clause in clauses:
        objects = _negated_objects(clause, cwd)
        instead = re.match(r"\s*instead of (\w+?)ing\b", clause, re.I)
        for a in plan:
            if a["tool"] not in STATE_CHANGING:
                continue
            if instead and (a["tool"] not in DESTRUCTIVE or not any(
                    asks_for(a["tool"], v) for v in (instead.group(1), instead.group(1) + "e"))):
                continue    # "instead of deleting b.txt, move it": only the deletion is left out
            values = {str(v) for v in (a.get("args") or {}).values()}
            values |= {v.rstrip("/").rsplit("/", 1)[-1] for v in values if v.startswith("/")}
            if objects & values:
                return f"the request leaves {sorted(objects & values)[0]} out"
            if not objects and a["tool"] in DESTRUCTIVE and asks_for(a["tool"], _bare(clause)):
                return f"the request says not to {a['tool'].replace('_', ' ')}"
    return None


def _path_from_url(action: dict, urls: list[str]) -> str | None:
    """The URL of the step a path argument of this action was cut from, or None."""
    if not urls:
        return None
    tool = TOOLS.get(action.get("tool"))
    for arg in tool.args if tool else ():
        v = action.get("args", {}).get(arg.name)
        if arg.type == "path" and isinstance(v, str):
            for u in urls:
                rest = u.split("://", 1)[1].rstrip("/.,;:!?")
                if rest and rest in v:
                    return u.rstrip(".,;:!?")
    return None


def _one_power_action(plan: list[dict]) -> list[dict]:
    """A plan ends at its power action: "shut down and reboot" (shutdown -r) is a reboot,
    not a power-off that the reboot after it would never follow, and nothing is planned
    after the machine goes down."""
    power = [i for i, a in enumerate(plan) if a["tool"] in ("reboot", "poweroff")]
    if not power:
        return plan
    if any(plan[i]["tool"] == "reboot" for i in power):
        keep = next(i for i in power if plan[i]["tool"] == "reboot")
    else:
        keep = power[0]
    return [a for i, a in enumerate(plan[:keep + 1]) if i == keep or i not in power]


def unsafe_actions(plan: list[dict], allowed: set[str]) -> list[str]:
    """Destructive tools in `plan` that are not in `allowed` (used by the evaluation)."""
    return [a["tool"] for a in plan if a["tool"] in DESTRUCTIVE and a["tool"] not in allowed]
