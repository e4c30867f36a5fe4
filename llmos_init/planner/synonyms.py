"""Synonym tables: colloquial verbs and phrasings rewritten to the parser's canonical forms.

`canonical(step)` rewrites one step: politeness wrappers are dropped ("could you please ...",
"... for me"), and the first matching phrase of each tool's table becomes the parser's
canonical verb ("take a look at X" -> "show X", "zap X" -> "delete X", "hop over to X" ->
"cd X"). Paths, names, numbers and quoted text are carried over untouched: a rule only
ever replaces the words it matched. The planner tries the canonical form first and the
text as written after it.

Destructive rewrites exist only for verbs that themselves ask for that effect ("zap",
"scrap", "chuck X in the trash" ask to delete); the guard's explicit-verb lists carry the
same words, so the guard still decides on the text the user wrote.
"""
from __future__ import annotations

import re

_POLITE_HEAD = re.compile(
    r"^(?:(?:please|pls|plz|kindly|hey|ok(?:ay)?|so|now|go ahead and|"
    r"(?:can|could|would|will) you(?: please)?|i'?d like (?:you )?to|i would like (?:you )?to|"
    r"i want (?:you )?to|i need (?:you )?to|i wanna|help me)\s*,?\s+)+",
    re.I)
_POLITE_TAIL = re.compile(r"(?:,?\s+(?:please|pls|for me|thanks|thank you|now please|if you can))+\s*[.!?]*$", re.I)

# (pattern, replacement) per intent; patterns are anchored at the start of the step unless
# they say otherwise. Replacement groups keep the user's own words for arguments.
_P = r"(?:the )?"
TABLES: dict[str, list[tuple[str, str]]] = {
    "list_dir": [
        (r"^(?:take|have) a (?:quick )?(?:look|peek|gander) (?:at|in|inside|into)\s+", "show "),
        (r"^(?:look|peek|poke around|snoop) (?:at|in|inside|into|around)\s+", "show "),
        (r"^(?:browse|explore|check out|inspect)\s+", "show "),
        (r"^show me around\s+", "list "),
        (r"^what (?:lives|is|'s|sits|exists) (?:under|inside|within|beneath|in)\s+", "list "),
        (r"^what (?:have we|do we have|do i have|have i) (?:got )?(?:in|inside|under)\s+", "list "),
        (r"^what (?:have we|do we have|have i|do i have) got (?:in )?here$", "list here"),
        (r"^(?:the )?contents? of\s+", "list "),
        (r"^(?:give me|get me) a (?:dir(?:ectory)? )?listing (?:of|for)\s+", "list "),
    ],
    "read_file": [
        (r"^(?:dump|output|spit out|spill(?: out)?|type out|cat out|read out|print out|echo out)"
         r"\s+(?:the )?(?:contents? of\s+)?", "show "),
        (r"^(?:display|show|print|read) (?:me )?the (?:contents?|text) of\s+", "show "),
    ],
    "remove": [
        (r"^(?:scrap|zap|purge|ditch|axe|shred)\s+", "delete "),
        (r"^(?:chuck|throw|toss|send|move|put)\s+(.+?)\s+(?:in|into|to) (?:the )?(?:trash|rubbish|garbage)(?: can)?$",
         r"delete \1"),
    ],
    "copy": [
        (r"^(?:clone|replicate|make a duplicate of)\s+", "copy "),
    ],
    "change_dir": [
        (r"^(?:hop|head|jump|navigate|step|take me)(?: on)?(?: over| back| up)? "
         r"(?:in)?to\s+(?:the )?(?:(?:folder|directory|dir)\s+)?", "cd "),
    ],
    "start_program": [
        (r"^(?:fire up|spin up|boot up|kick off|invoke|trigger)\s+", "run "),
    ],
    "make_dir": [
        (r"^set up (?:a |an )?(?:new )?(?:folder|directory|dir)(?: (?:named|called))?\s+", "mkdir "),
        (r"^(?:set up|create|make|add) (?:a |an )?(?:new )?([\w.+-]+) (?:folder|directory|dir)$", r"mkdir \1"),
    ],
    "find_files": [
        (r"^where(?: is|'s| are| can i find)\s+(?!my disk|the disk)(?:the file |my )?([\w.*+-]+)(?: file)?$", r"find \1"),
        (r"^search\s+(\S*/\S*)\s+for\s+(\S+)$", r"find \2 in \1"),
        (r"^(?:hunt|dig) (?:for|up)\s+", "find "),
    ],
    "disk_usage": [
        (r"^how (?:full|empty) is\s+(?:the )?(?!disk\b|drive\b|storage\b)(\S+)$", r"disk usage of \1"),
        (r"^(?:show |list )?(?:me )?(?:what(?: is|'s) mounted|(?:the )?mounts|(?:the )?mounted (?:filesystems|file systems|disks))$", "df"),
    ],
    "poweroff": [
        (r"^shut (?:it|everything|it all|the (?:whole )?(?:thing|system|machine|box)) (?:all )?down$", "power off"),
    ],
    "set_hostname": [
        (r"^give (?:the|this) (?:box|machine|computer|host|system|device|pi) the (?:host ?)?name\s+([\w.-]+)$",
         r"set hostname to \1"),
    ],
    "system_info": [
        (r"^when did (?:the |this )?(?:machine|system|computer|box|server|pi) (?:start|boot|come up)(?: up)?$", "uptime"),
        (r"^(?:what|which) (?:version of )?(?:linux|the kernel|kernel)(?: version)? (?:is|am i) (?:this|running|installed|in use)$", "kernel version"),
    ],
    "kernel_log": [
        (r"^(?:recent |latest |the )?kernel (?:output|chatter|ring buffer)$", "kernel log"),
    ],
    "list_devices": [
        (r"\b(?:wifi|wi-fi|wireless|network|ethernet|lan) (?:adapters?|cards?|chips?|interfaces?)\b", "network interfaces"),
    ],
    "list_processes": [
        (r"^(?:what|who|which (?:process|program|task))(?: is|'s)? (?:eating|hogging|using up|chewing(?: up)?|burning|using)"
         r"(?: all)?(?: (?:the|my))? (?:memory|ram|cpu|processor)$", "list processes"),
    ],
    "list_devices_all": [
        (r"^what(?:'s| is| are)? (?:plugged in|connected|attached)(?: to (?:this|the) (?:machine|computer|box|pi))?$", "list devices"),
    ],
    "answer": [
        (r"^(?:cheers(?: mate)?|how are you(?: doing| today)?|how'?s it going|what'?s up|sup|ping|you there|are you there)$", "hello"),
    ],
    "help": [
        (r"^what are (?:my|the) options(?: here)?$|^what can i (?:do|say|type|ask)(?: here)?$|^how does this work$", "help"),
    ],
    "file_info": [
        (r"^how many (?:bytes|kilobytes|megabytes|kb|mb) (?:is|are|does)\s+(\S+)(?: take(?: up)?| use| have)?$", r"size of \1"),
    ],
    "pwd": [
        (r"^(?:print|show|tell me|what is|what's) (?:me )?(?:the )?(?:current |present )?working directory$|^where am i$|"
         r"^(?:which|what) (?:directory|folder|dir) am i in$", "pwd"),
    ],
}
_COMPILED = [(re.compile(p, re.I), r) for rules in TABLES.values() for p, r in rules]


def strip_politeness(step: str) -> str:
    s = _POLITE_HEAD.sub("", step.strip())
    s = _POLITE_TAIL.sub("", s)
    return s.strip() or step.strip()


def canonical(step: str) -> str:
    """The step with politeness dropped and the first matching synonym phrase rewritten."""
    s = strip_politeness(step)
    for rx, rep in _COMPILED:
        new, n = rx.subn(rep, s, count=1)
        if n:
            return re.sub(r"\s+", " ", new).strip()
    return s
