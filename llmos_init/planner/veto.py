"""Requests that must change nothing, whatever a parser or a model made of them.

The guard asks one question of the whole request (its command part: the text of a write
is data and was split off before): may any action of its plan change the system? These
readings say no, in any language the planner knows:

- a question or a hypothetical ("is eth0 up?", "what if I kill 42", "how to delete x"),
  unless it is a polite request ("can you delete x?");
- a negation or a retraction anywhere ("under no circumstances delete x",
  "delete x. no wait, don't", "不要删除 x");
- reported speech or a quote ("my boss said rm -rf /data/docs", "the manual says: reboot");
- a time to do it later ("reboot in 10 minutes", "power off at midnight"): the console has
  no scheduler, and "later" is not "now";
- a pasted prompt or plan (chat-template markers, a JSON action).

They are read off a skeleton of the request: look-alike letters folded to ASCII,
invisible characters dropped, quoted strings and paths taken out (a file named
"reboot now.txt" is not an order, and neither is a path /data/not/x a negation).

Power and some edits have rules of their own (`tool_veto`): reboot and poweroff only when
their object is the machine ("turn off the screen" is not a power-off); remove never for
part of a file ("remove the last line of notes.txt", "delete everything except x");
write_file never for "touch" or a backup (it would empty an existing file).
"""
from __future__ import annotations

import re
import unicodedata

# Latin look-alikes from Cyrillic and Greek, and quote marks that stand for an apostrophe.
_CONFUSABLES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ԁ": "d", "ѕ": "s", "ո": "n", "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H",
    "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "ο": "o", "α": "a", "ε": "e", "ι": "i",
    "κ": "k", "ν": "v", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "Ο": "O", "Α": "A", "Ε": "E",
    "`": "'", "´": "'", "ʼ": "'", "‘": "'", "’": "'", "′": "'",
})
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff\u180e]")
# a quote opens after a space or a sign, not inside a word ("I'd rather you didn't")
QUOTED = re.compile(r"(?<!\w)'[^']*'(?!\w)|\"[^\"]*\"|「[^」]*」|“[^”]*”")
# (no Chinese in a bare name's stem or extension: "除了summary.txt都删掉" keeps 除了 and 都删掉,
# "data.csv里的空格" is a path and then Chinese, not one long name)
_PATHISH = re.compile(r"(?<![\w])(?:~|\.{1,2})?/[^\s'\",;]*|[^\W\u3400-\u9fff]+(?:\.[A-Za-z0-9_+@-]+)+")


def _fold(text: str) -> str:
    """Look-alikes folded (before NFKC, which would split ´ into a space and an accent),
    compatibility forms (ｄｏｎ'ｔ) normalised, invisible characters dropped."""
    s = _INVISIBLE.sub("", text).translate(_CONFUSABLES)
    return unicodedata.normalize("NFKC", s).translate(_CONFUSABLES)


def skeleton(text: str) -> str:
    """The request as the vetoes read it: NFKC, look-alikes folded, invisible characters
    dropped, quoted strings and paths replaced by a placeholder, lower case."""
    s = _fold(text)
    s = QUOTED.sub(" _q_ ", s)
    s = _PATHISH.sub(" _p_ ", s)
    return re.sub(r"\s+", " ", s).strip().lower()


_POLITE_REQUEST = re.compile(r"^(?:(?:ok|okay|hey|so|now|please),?\s+)*(?:can|could|would|will) you\b|"
                             r"^(?:请|麻烦|能不能|可以)")
_LEAD = r"^(?:(?:ok|okay|hey|so|and|but|um|hmm|ugh|well|quick question|question|just curious|q),?:?\s+)*"
_QUESTION_START = re.compile(
    _LEAD + r"(?:is|are|was|were|am|do|does|did|has|have|had|what|what's|whats|waht|why|how|"
    r"when|where|which|who|whose|if|should|shall|would|will|could|can|may|might|must|"
    r"isn't|aren't|doesn't|don't|didn't|won't|wouldn't|can't|cannot)\b|"
    r"^(?:tell me )?(?:how|whether) (?:to|do|does|can|i)\b|"
    r"(?:吗|呢|么)[？?。.!！]*$|^(?:为什么|怎么|如何|是否|会不会|能否|如果|假如|要是)|(?:会怎样|会怎么样|是什么意思)|"
    r"会有什么(?:后果|影响|风险|问题|结果)|会发生什么|有什么(?:后果|影响|风险)|[\u3400-\u9fff][^？?]*[？?]\s*$")
_HYPOTHETICAL = re.compile(r"\b(?:what if|waht if|what happens|what would happen|suppose|supposing|imagine|"
                           r"hypothetically|in theory|just curious|i wonder|wondering|in case|assuming|"
                           r"explain|teach me|tell me how|show me how|how (?:to|do i|can i|would i))\b|"
                           r"(?:如果|假如|要是|假设|万一|怎么|如何)")
# a statement about the state of something, not an order ("eth0 went down again",
# "./deploy.sh is broken", "has eth0 been brought down")
_STATEMENT = re.compile(r"\b(?:is|are|was|were|went|goes|has been|have been|got|gets|keeps?|kept|seems?)\s+"
                        r"(?:(?:brought|taken|already|still|now|again|being)\s+)?"
                        r"(?:up|down|broken|dead|offline|online|gone|missing|slow|crashed|crashing|failing|"
                        r"stuck|hung|full|empty|running|stopped|nice|great|good|fun|fine|bad|awesome|cool|"
                        r"boring|amazing|terrible|lovely|weird|annoying)\b")
_NEGATION = re.compile(
    r"\b(?:don't|dont|do not|does not|doesn't|never|not|no need|nobody|no one|noone|neither|nor|"
    r"under no circumstances?|by no means|rather you didn't|rather not|refrain|avoid|"
    r"scratch that|no wait|wait,? no|cancel that|forget (?:it|that|about it)|never ?mind|"
    r"on second thought|actually,? no|belay that|hold off|stop!?$|just kidding|jk|kidding|nope|"
    r"leave it|let it (?:be|run|live|stay)|keep it|hmm,? no|no,? no|not really|changed my mind|"
    r"dnot|donot|nver|nevr|neveer|dont't|do'nt)\b|"
    r"(?:不要|别|不用|不需要|千万不|算了|不必|勿|禁止|取消|开玩笑|开个玩笑|说着玩)")
_REPORTED = re.compile(
    r"\b(?:said|says|say|saying|told (?:me|us|him|her|them)|tells? me|wrote|writes|asked me to|heard|"
    r"read (?:that|somewhere)|somebody|someone|people say|"
    r"according to|claims?|claimed|quoting|quote|the (?:manual|docs?|documentation|tutorial|guide|"
    r"readme|wiki|book|man page|error|log|message) (?:says|said|tells|told|suggests|recommends))\b|"
    r"(?:说|写着|告诉我|提到|建议)")
_DEFERRED = re.compile(
    r"\b(?:in (?:\d+|a|an|one|two|five|ten|half an?) ?(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?)|"
    r"at \d{1,2}(?::\d{2})? ?(?:am|pm|o'clock|h)?|at (?:midnight|noon|dawn|night)|tonight|tomorrow|"
    r"later|afterwards|next (?:week|month|hour|time|boot)|every (?:day|hour|night|morning|week)|"
    r"on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|when i'm done|after lunch)\b|"
    r"(?:分钟后|小时后|秒后|明天|今晚|稍后|以后|午夜|晚上|一会儿|"
    r"等.{0,24}?(?:完成|结束|好了|完了|跑完|下载完)|(?:完成|结束|跑完|下载完)(?:后|之后|以后))")
_PASTED = re.compile(r"<\|[^|>]*\|>|\[/?inst\]|<</?sys>>|</?s>|^\s*[\[{]|\"(?:tool|role|args|name|arguments)\"\s*:|"
                     r"^(?:system|assistant|user|human)\s*:|\b(?:assistant|human)\s*:|#{2,}\s*(?:instruction|response|input|system)|"
                     r"</?(?:tool_call|function_call|function|tool)>")


# "add the line done at 5pm to log.txt": the text to add sits between its marker and "to";
# it is data, like the text after "with the text" (which the planner splits off itself)
_ADDED_TEXT = re.compile(r"^((?:please\s+)?(?:add|append|write|put)\s+(?:(?:the\s+|a\s+)?"
                         r"(?:line|text|words?|entry|note)\s+)?).+?(\s+(?:to|onto|into|at the end of)\s+\S+\s*)$",
                         re.I)


QUESTION = "that reads as a question"   # the veto whose plan gets a look instead (guard.py)

# "Remove photos if it is empty", "若目录为空，则删除目录": a removal whose condition is the
# thing's emptiness is not a statement about it. The confirmation names what goes ("photos
# (directory, 3 entries)") and the trash keeps it, so the user judges the condition there.
_REMOVAL = re.compile(r"\b(?:remove|delete|rmdir|rm|erase|nuke)\b|删除|删掉|移除")
_EMPTY_CONDITION = re.compile(
    r",?\s*\b(?:if|when|once|provided)\s+(?:(?:it|they|that|this|these|those)|_p_|(?:the|that|this|"
    r"each|every|those|these)\s+(?:\w+\s+)?(?:folders?|director(?:y|ies)|dirs?|files?|ones?))"
    r"\s+(?:is|are|'s|'re)\s+(?:now\s+|really\s+|still\s+)?empty\b|,?\s*\bif empty\b|"
    r"(?:如果|若|假如|要是)[^，,。；;？?]{0,16}(?:为空|是空的|空着)(?:的话)?[，,]?\s*(?:则|就)?")


def request_veto(text: str) -> str | None:
    """Why nothing in this request's plan may change the system, or None."""
    raw = _fold(text).lower()
    if _PASTED.search(raw):
        return "that looks like a pasted prompt or plan; I do not run those"
    s = skeleton(_ADDED_TEXT.sub(r"\1_t_\2", text))
    if _NEGATION.search(s):
        return "the request says not to (or takes it back)"
    if _REPORTED.search(s):
        return "that reports what someone said; it is not a request to me"
    if _REMOVAL.search(s):     # (after the negations: "别删除为空的" is still one)
        s = _EMPTY_CONDITION.sub(" ", s).strip()
    if _HYPOTHETICAL.search(s) or _STATEMENT.search(s) or \
            (_QUESTION_START.search(s) and not _POLITE_REQUEST.search(s)):
        return QUESTION
    if _DEFERRED.search(s):
        return "the console cannot do things later; say it when it should happen"
    return None


_MACHINE = (r"(?:the |this |my |our )?(?:machine|system|computer|box|device|board|pi|raspberry pi|"
            r"os|llmos|host|server|whole thing|thing|everything|it all|it)")
_POWER_OK = re.compile(
    r"^(?:[^,;]*[,;]\s*)?(?:(?:ok|okay|now|please|pls|kindly|right|alright|so|then|go ahead and),?\s+)*"
    r"(?:(?:can|could|would|will) you\s+(?:please\s+)?)?(?:(?:just|simply)\s+)?(?:sudo\s+)?"
    r"(?:(?:reboo+t|restart|power ?off|power down|shut ?down|halt|turn off|switch off|poweroff|power cycle|"
    r"starte neu|red[ée]marre|[ée]teins|arr[êe]te|reinicia|apaga)"
    rf"(?:\s+{_MACHINE})?(?:\s+(?:down|off))?|(?:turn|switch|shut|power)\s+{_MACHINE}\s+(?:off|down)|"
    r"shutdown(?:\s+-[hPr])?(?:\s+(?:now|\+0))?|reboot(?:\s+-f)?|poweroff(?:\s+-f)?)"
    r"(?:\s+(?:la machine|le syst[èe]me|das system|den rechner|la m[áa]quina))?"
    r"(?:\s+(?:now|right now|immediately|please|for me|again))*[\s.!]*$|"
    # Chinese: the power word alone, or with the machine itself as its object ("重启路由器",
    # "重启浏览器" are another device's or a program's restart)
    r"^(?:请|麻烦|帮我|现在|马上|立刻|立即)*(?:(?:重启|关机|重新启动|断电|关闭系统|关闭电源)(?:一下)?"
    r"(?:系统|机器|电脑|设备|这台机器|本机|树莓派)?|(?:关掉|关闭|关了)(?:系统|机器|电脑|设备|这台机器|本机|树莓派)|"
    r"把(?:系统|机器|电脑|设备|这台机器|本机|树莓派)(?:重启|重新启动|关掉|关了|关闭|关机)(?:一下)?)"
    r"(?:吧|一下)?[\s。！!.]*$")
_PART_OF = re.compile(r"\b(?:lines?|words?|characters?|chars?|paragraphs?|rows?|columns?|entries|entry|"
                      r"sections?|headers?|footers?|comments?|duplicates?|blank|empty lines|trailing|typos?|"
                      r"everything except|all except|all (?:\w+ )?but|except|but keep|other than|contents? of)\b|"
                      # "remove the password from notes.txt": a thing taken out of a file
                      r"\b(?:the|a|an|all|every|any|my)\s+\w+(?:\s+\w+)?\s+(?:from|in|inside|within|out of)\s+_p_|"
                      r"(?:第\s*\S{1,4}\s*行|最后一行|除了|(?:_p_|\.[a-z0-9]{1,8})\s*(?:里的|中的|里面的|里|中)\S)")
_BACKUP = re.compile(r"\b(?:backup|back up|copy of|duplicate)\b|(?:备份|副本)")


def tool_veto(tool: str, args: dict, text: str) -> str | None:
    """Why this one action may not come from this request, or None."""
    s = skeleton(text)
    if tool in ("reboot", "poweroff") and not _POWER_OK.search(s):
        return f"I only {'reboot' if tool == 'reboot' else 'power off'} the machine itself when asked in so many words"
    if tool == "remove" and _PART_OF.search(s):
        return "that is about part of a file or all but some files; I can only remove whole files or folders"
    if tool == "write_file":
        if re.search(r"(?<![\w./-])touch(?![\w./-])", s):     # "hey, touch old.log so …" too
            return "touch would empty a file that exists; say 'create an empty file …' if that is what you want"
        if _BACKUP.search(s):
            return "a backup is a copy: say 'copy notes.txt to notes.bak'"
    if tool == "kill_process" and isinstance(args.get("name"), str):
        name = args["name"].strip(_PUNCT).lower()
        if name in _NOT_A_NAME:
            return f"{args['name']!r} is not the name of a program"
        if re.search(rf"\bthe {re.escape(name)}\b(?!\s+(?:process|program|daemon|server|service|job|task|"
                     rf"script|app|application))", s):
            # "kill the lights": a program is named, or called a process; a thing is not
            return f"'the {name}' is not named as a program (say 'kill the {name} process')"
    if tool == "kill_process" and args.get("pid") is not None and \
            re.search(rf"(?<!\d){re.escape(str(args['pid']))}(?!\d)", s) and \
            not _pid_named(str(args["pid"]), s):   # (a pid from the history is a reference)
        return f"{args['pid']} is not given as a process there (\"kill 42\", \"pid 42\")"
    for key, value in args.items():   # "move files to the trash", "open the specified folder"
        if isinstance(value, str) and value.startswith("/") and \
                value.rstrip("/").rsplit("/", 1)[-1].strip(_PUNCT).lower() in _GENERIC_NOUNS:
            return f"{value} would be a generic word taken as a name"
    return None


_PUNCT = ".,!?;:…。！？，"
# A pid is a process when it follows a verb for signals or priorities directly (options
# and "pid"/"process" between them allowed), or "pid"/"process" itself: "end at line 5",
# "kill time for 15 minutes" and "stop after 3 tries" do not name pid 5, 15 or 3.
_PID_VERB = (r"(?:kill|kil|killall|terminate|stop|end|pause|suspend|resume|continue|interrupt|"
             r"signal|beende|renice|nice|reprioriti[sz]e|hup|freeze|thaw|unpause|sig\w+|send (?:a |the )?\w+(?: signal)? to|send (?:a |the )?signal \w+ to|"
             r"杀掉|杀死|杀|结束|终止|暂停|挂起|冻结|继续|恢复|中断|停止|关闭|干掉|重新加载|重载|给|向|让)")


_PROCESS_WORD = r"(?:\bprocess(?:es)?\b|\bpids?\b|\bjobs?\b|\btasks?\b|进程|任务)"


def _pid_named(pid: str, s: str) -> bool:
    before = r"(?:\s*(?:-\w+|-s \w+|the|den|process|prozess|pids?|job|task|program|number|no\.?|#|进程|with|id|identified by|numbered))*\s*"
    if re.search(rf"(?:{_PID_VERB}{before}|(?:\bpids?|\bprocess|进程)\s*#?\s*){re.escape(pid)}(?!\d)", s):
        return True
    # one of a list whose first is named: "kill 99 and 31337", "kill 812, 99 and 7"
    listed = re.search(rf"(?<![\w.-])(\d+)\s*(?:,|and|&|和|、)\s*(?:and\s+)?{re.escape(pid)}(?!\d)", s)
    if listed and listed.group(1) != pid and _pid_named(listed.group(1), s):
        return True
    # a manual page's "X: value" form, X naming a process: "Kill a process with a signal: 42"
    if re.search(rf"{_PROCESS_WORD}[^:：\d]{{0,40}}[:：]\s*{re.escape(pid)}\s*$", s):
        return True
    # the same set off by a space after "signal": "向进程发送信号 2048"; a number a signal can
    # have (1-64) is that signal's ("send the process signal 9")
    return int(pid) > 64 and re.search(
        rf"{_PROCESS_WORD}[^:：\d]{{0,40}}(?:\bsignal|信号)\s+{re.escape(pid)}\s*$", s) is not None


# Words that are never the name of a program, or of a file the user named: function
# words, number words, pronouns, and the generic nouns a request uses to talk about names.
_NOT_A_NAME = frozenset("""it this that them these those one two three four five six seven
eight nine ten of the a an and or to at in on for with all everything time instead rather
too also please now then""".split())
_GENERIC_NOUNS = frozenset("""file files folder folders directory directories dir dirs current
specified given same selected above following stuff things thing everything them it this
that these those""".split())
