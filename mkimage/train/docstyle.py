"""Documentation-register phrasings for the training corpus, composed from parts.

Reference documentation describes what a command does rather than asking for it: "Prints the
text of FILE", "Shows free space on each mounted filesystem", "Removal of an empty
directory", "设置系统的主机名". A request built from such a sentence ("print the text of FILE
notes.txt", "shows free space on each mounted filesystem: /data") is the phrasing this
module teaches, in this module's own words (no sentence of any manual page: the frozen
held-out set in tests/eval/manpages is made of those and is never read here).

Each tool has verbs and objects. One *template* is one object phrase with every verb of its
tool, in each verb form (imperative, third person singular, gerund, infinitive for English;
bare verb or a 用来/可以/用于 frame for Chinese), in hassil syntax, so the corpus generator
(corpus.py) samples them as it samples the sentence files, and its split by template holds
whole object phrases out of training.  At render time corpus.py adds the register's habits:
a value after a colon, a value set off by spaces next to Chinese, a trailing qualifier
("to standard output", "（默认为当前目录）") that does not change what is asked.
"""
from __future__ import annotations

import re

# English verbs: each written in its base form; third person, gerund and "to" infinitive are
# made from it (forms()).  A verb of several words inflects its first word.
_IRREGULAR_ING = {"be": "being", "set": "setting", "get": "getting", "put": "putting",
                  "stop": "stopping", "run": "running", "shut": "shutting", "cut": "cutting",
                  "drop": "dropping", "swap": "swapping", "dump": "dumping",
                  "output": "outputting", "emit": "emitting", "put out": "putting out"}


def _third(v: str) -> str:
    if v.endswith("y") and v[-2:-1] not in "aeiou":
        return v[:-1] + "ies"
    if v.endswith(("s", "sh", "ch", "x", "z", "o")):
        return v + "es"
    return v + "s"


def _ing(v: str) -> str:
    if v in _IRREGULAR_ING:
        return _IRREGULAR_ING[v]
    if v.endswith("ie"):
        return v[:-2] + "ying"
    if v.endswith("e") and not v.endswith(("ee", "ye")):
        return v[:-1] + "ing"
    return v + "ing"


# command names used as verbs ("rm the file x"): written only as they are
NO_INFLECT = {"rm", "cp", "mv", "cd", "mkdir", "cat", "renice", "umount", "exec", "up"}


def forms(verb: str) -> list[str]:
    """base, third person, gerund and "to" forms of an English verb phrase."""
    head, _, rest = verb.partition(" ")
    if head in NO_INFLECT:
        return [verb]
    tail = " " + rest if rest else ""
    return [verb, _third(head) + tail, _ing(head) + tail, "to " + verb]


def verb_alternative(verbs: list[str], lang: str) -> str:
    if lang == "en":
        out = [f for v in verbs for f in forms(v)]
    else:
        out = list(verbs)
    return "(" + "|".join(dict.fromkeys(out)) + ")"


# The path slots of English objects are preceded by an optional metavariable word, as
# documentation names its argument ("the file FILE", "directory DIR"): <fw> / <dw>.
EN_RULES = {
    "fw": "[(file|FILE|the file|the given file|the named file|each file|the specified file)]",
    "dw": "[(directory|DIR|DIRECTORY|the directory|the given directory|folder|each directory)]",
}
ZH_RULES = {
    "fw": "[(文件|指定的文件|给定的文件|该文件|每个文件)]",
    "dw": "[(目录|文件夹|指定的目录|给定的目录|该目录)]",
}

# tool -> blocks of (verbs, objects, fixed slots).  Objects are hassil phrases.
EN: dict = {
    "read_file": [
        (["print", "display", "show", "output", "write out", "dump", "type out", "read", "view",
          "put out", "echo", "emit", "send"],
         ["[the] (contents|content|text|whole text|data) of <fw> {path}",
          "<fw> {path} [in full] [on (the screen|the terminal|standard output|stdout)]",
          "[all] [the] lines (in|of|from) <fw> {path}",
          "what (is written|is stored) in <fw> {path}",
          "[the] (beginning|end|start|last part|first part|top|bottom) of <fw> {path}",
          "[the] (first|last) (few|ten|10|several) lines of <fw> {path}",
          "{path}'s (contents|text)"], {}),
        (["concatenate", "join", "cat"],
         ["<fw> {path} [and print [it|them]] [to (standard output|the screen|stdout)]"], {}),
    ],
    "list_dir": [
        (["list", "show", "display", "print", "enumerate", "output", "report", "give"],
         ["[the] (contents|entries|files|names|items|file names) (of|in|inside|under) <dw> {path}",
          "[information|details] about the (files|entries) in <dw> {path}",
          "what <dw> {path} (contains|holds)",
          "[the] (directory|folder) listing (of|for) {path}",
          "<dw> {path} [one entry per line|in long format|with sizes]"], {}),
        (["list", "show", "display", "print", "enumerate", "output", "report"],
         ["[the] (contents|entries) of the current (directory|folder|working directory)",
          "[the] (directory|folder) contents",
          "[information about] the files [here|in this directory|in the working directory]",
          "[the] files and (directories|folders|subdirectories) [in the current one|here]",
          "what (the current|this) (directory|folder) contains"], {"path": "."}),
    ],
    "remove": [
        (["remove", "delete", "erase", "unlink", "wipe", "get rid of", "discard", "destroy",
          "rm"],
         ["<fw> {path}", "<dw> {path} [and (its|all its) contents|recursively]",
          "[the] (empty|given|named) (directory|directories|folder) {path}",
          "[the] (entry|item|name|link) {path} [from the filesystem|from disk]",
          "{path} [from (the filesystem|the disk|storage)] [for good|permanently]"], {}),
    ],
    "make_dir": [
        (["create", "make", "add", "set up", "build", "establish", "mkdir"],
         ["[a] [new] [empty] (directory|folder|subdirectory|directories|folders) [named|called] {path}",
          "<dw> {path} [if it does not (exist|already exist)]",
          "{path} [as a (directory|folder)] [with any missing parents|and its parents]"], {}),
    ],
    "move": [
        (["move", "rename", "relocate", "shift", "transfer", "mv"],
         ["<fw> {src} to {dst}", "{src} (to|into|as|onto) {dst}",
          "<fw> {src} [so that it is] (called|named) {dst}",
          "[the] (source|file|entry) {src} to [the] (destination|target|new name) {dst}"], {}),
        (["give", "assign"],
         ["{src} the new name {dst}", "[the] (name|new name) {dst} to {src}"], {}),
    ],
    "copy": [
        (["copy", "duplicate", "clone", "replicate", "cp"],
         ["<fw> {src} to {dst}", "{src} (to|into|as|onto) {dst}",
          "[the] (source|file) {src} to [the] (destination|target|directory) {dst}",
          "[a] (copy|duplicate) of {src} (to|into|at|as) {dst}"], {}),
        (["make", "create", "produce", "write"],
         ["a (copy|duplicate|second copy) of <fw> {src} (at|in|as|named) {dst}"], {}),
    ],
    "file_info": [
        (["show", "display", "print", "report", "give", "list", "output", "tell"],
         ["[the] (status|metadata|attributes|details|properties|inode information) of <fw> {path}",
          "[the] (size|permissions|owner|mode|timestamps|modification time) (and|,) (size|permissions|owner|mode|type|times) of <fw> {path}",
          "[file] (status|information|info|metadata) (for|about|on) {path}",
          "when {path} was (last modified|changed|created)",
          "how (big|large) <fw> {path} is"], {}),
    ],
    "find_files": [
        (["find", "search for", "look for", "locate", "list", "hunt for", "seek"],
         ["[all] [the] (files|entries|names) matching {pattern} (in|under|below|beneath) <dw> {path}",
          "{pattern} (in|under|below) [the] (directory tree|hierarchy|tree) [rooted at|of] {path}",
          "[files] (named|called|whose name matches|that match) {pattern} [recursively] (in|under|below) {path}"], {}),
        (["find", "search for", "look for", "locate", "hunt for"],
         ["[all] [the] (files|entries) (named|called|matching) {pattern} [anywhere] [here|below the current directory|in this tree]",
          "{pattern} [in the current (directory|tree)|from here down]"], {}),
    ],
    "disk_usage": [
        (["show", "report", "display", "print", "give", "list", "tell", "summarize", "estimate"],
         ["[the] [amount of] (free|available|used) (space|disk space|storage) (on|of|for) [the] (file system|filesystem|disk|partition) (holding|containing|of|with) {path}",
          "[the] disk (usage|space|space usage) (of|for|on) {path}",
          "how much (space|room|disk) {path} (uses|takes|occupies|has left)",
          "[the] (size|capacity) and (usage|free space) of the (file system|filesystem) (of|at|holding) {path}"], {}),
        (["show", "report", "display", "print", "give", "list", "summarize"],
         ["[the] (file system|filesystem|disk) (space|usage|space usage) [of|for] (all|every|each) [mounted] (file systems|filesystems|disks|partitions)",
          "how much (disk space|space|storage) is (free|used|available|left) [on (the|all) (disks|file systems|drives)]",
          "[the] (free|available|used) (space|disk space|storage) [on the system|everywhere]"], {}),
    ],
    "change_dir": [
        (["change to", "switch to", "go to", "move to", "enter", "cd", "cd into", "go into", "step into"],
         ["<dw> {path}", "{path} [as the (current|working) directory]"], {}),
        (["change", "set", "switch"],
         ["the (current|working) (directory|folder) (to|into) {path}", "(directory|folder|location) to {path}"], {}),
    ],
    "list_processes": [
        (["show", "list", "display", "report", "print", "give", "output", "enumerate"],
         ["[a] [snapshot of] [the] (current|running|active) (processes|programs|tasks)",
          "[information about] (all|every) (process|processes|running process) [on the system]",
          "[the] process (list|table|status)", "what (is|programs are|processes are) running [now|right now]",
          "[the] processes [and their (ids|pids|states|memory)]"], {}),
    ],
    "kill_process": [
        (["kill", "terminate", "end", "stop", "signal", "finish", "abort"],
         ["[the] process {pid}", "process (id|ID|number) {pid}", "[the] (process|program|task|job) (named|called) {name}",
          "[all] [the] (processes|instances) (named|called|of) {name}", "pid {pid}", "{target_process}"], {}),
        (["send", "deliver", "give", "raise"],
         ["[the] [signal] {signal} to [process] {pid}", "[a] {signal} [signal] to [the] [process] {name}",
          "[a] signal to (process|pid) {pid}"], {}),
    ],
    "start_program": [
        (["run", "start", "execute", "launch", "invoke", "spawn", "exec"],
         ["[the] (program|executable|script|binary|command) {path}", "{path} [in the background|as a child process]",
          "[the] (program|script) {path} (with|passing) [the] (arguments|options|args) {args}",
          "{path} {args}"], {}),
    ],
    "set_priority": [
        (["set", "change", "alter", "adjust", "modify", "renice"],
         ["the (priority|niceness|nice value|scheduling priority) of [the] (process|pid) {pid} to {nice}",
          "[the] process {pid} to [nice|niceness|priority] {nice}",
          "(priority|niceness) {nice} (for|on) [the] (process|pid) {pid}"], {}),
    ],
    "system_info": [
        (["print", "show", "display", "report", "give", "tell", "output", "list"],
         ["[the] (system|machine|kernel|host) (information|info|details|name and version)",
          "[the] (kernel (name|release|version)|operating system|machine hardware name|processor type)",
          "how long the system has been (running|up)", "[the] (uptime|load average|system load) [of the system]",
          "[the] [amount of] (free|used|total) (memory|RAM|swap) [in the system]",
          "[information about] the (CPU|CPUs|processor|processors|CPU architecture)",
          "[the] (network node|host) name [of the machine]"], {}),
    ],
    "list_devices": [
        (["list", "show", "display", "print", "report", "enumerate"],
         ["[information about] [all] [the] (block devices|disks|drives|partitions|storage devices)"], {"kind": "block"}),
        (["list", "show", "display", "print", "report", "enumerate"],
         ["[all] [the] (network interfaces|network devices|links|NICs|network cards)",
          "[the] (state|status) of [all] [the] network (interfaces|devices|links)"], {"kind": "network"}),
    ],
    "mount": [
        (["mount", "attach", "mount up"],
         ["[the] (device|filesystem|file system|partition) {device} (on|at|under) [the] (directory|mount point) {target}",
          "{device} (on|at|to) {target} [as {fstype}|with type {fstype}]",
          "[a] {fstype} (filesystem|file system) (from|on) {device} (on|at) {target}"], {}),
    ],
    "unmount": [
        (["unmount", "umount", "detach", "release"],
         ["[the] (filesystem|file system|mount|mount point|disk) (at|on|mounted (at|on)) {target}",
          "{target} [from the (file hierarchy|directory tree|system)]"], {}),
    ],
    "link_up": [
        (["bring up", "enable", "activate", "start", "turn on", "switch on", "up"],
         ["[the] [network] (interface|device|link) {interface}", "{interface} [now]"], {}),
        (["set", "change", "put"],
         ["[the] [state of] [the] (interface|device|link) {interface} (to|into) (up|UP|the up state)",
          "{interface} (up|UP|online)"], {}),
    ],
    "link_down": [
        (["bring down", "disable", "deactivate", "shut down", "turn off", "switch off", "take down"],
         ["[the] [network] (interface|device|link) {interface}", "{interface} [now]"], {}),
        (["set", "change", "put"],
         ["[the] [state of] [the] (interface|device|link) {interface} (to|into) (down|DOWN|the down state)",
          "{interface} (down|DOWN|offline)"], {}),
    ],
    "get_time": [
        (["print", "show", "display", "tell", "report", "output", "give"],
         ["the (current|present|system) (date|time|date and time|clock)", "what (time|date|day) it is [now]",
          "the (date|time) [now|today|right now]"], {}),
    ],
    "set_time": [
        (["set", "change", "adjust", "update", "correct", "make"],
         ["the [system] (date|time|clock|date and time|system clock) to {time}",
          "the clock (to|so it reads|to read) {time}", "{time} as the (current|system) (time|date)"], {}),
    ],
    "set_hostname": [
        (["set", "change", "rename", "update", "make", "assign"],
         ["the (host name|hostname|system name|machine name|name of (the|this) (host|machine|system)) to {name}",
          "[the] (host|machine|system) (name|hostname) {name}", "{name} as the (host name|hostname|machine name)"], {}),
    ],
    "kernel_log": [
        (["print", "show", "display", "read", "examine", "dump", "output", "view"],
         ["the kernel (log|messages|ring buffer|message buffer|buffer)",
          "[the] (messages|output) (from|of) the kernel", "[the] (boot|driver) messages [from the kernel]"], {}),
    ],
    "reboot": [
        (["reboot", "restart", "reset", "reboot now"],
         ["the (system|machine|computer|host|device)", "[now|immediately|right away]"], {}),
    ],
    "poweroff": [
        (["power off", "shut down", "halt and power off", "switch off", "turn off", "power down"],
         ["the (system|machine|computer|host|device)", "[now|immediately|right away]"], {}),
    ],
    "write_file": [
        (["write", "store", "save", "put"],
         ["{text} (to|into|in) <fw> {path} [replacing its contents|overwriting it]",
          "the (text|string|line) {text} (to|into|in) {path}"], {}),
        (["create"],
         ["[an] empty (file|regular file) [named|called] {path}",
          "<fw> {path} [empty|with no content|as an empty file]"], {"text": ""}),
    ],
    "append_file": [
        (["append", "add", "write"],
         ["{text} to the end of <fw> {path}", "the (text|string|line) {text} (to|at the end of|onto) {path}"], {}),
    ],
    "help": [
        (["show", "display", "print", "give", "list", "explain"],
         ["(help|usage|the help text|the usage information) [for this console|for the commands]",
          "(information about|a summary of) [the] (available|built-in) commands",
          "what commands (are available|can be used)"], {}),
    ],
    "undo": [
        (["undo", "revert", "reverse", "roll back", "cancel"],
         ["the (last|previous|most recent) (change|action|operation|step)", "[that|it|what was just done]"], {}),
    ],
}

ZH: dict = {
    "read_file": [
        (["显示", "输出", "打印", "查看", "读取", "列出", "显示出", "输出显示"],
         ["<fw>{path}[的](内容|全部内容|文本|正文)", "<fw>{path}[到(标准输出|屏幕|终端)[上]]",
          "<fw>{path}(里|中)的(内容|文字|所有行)", "<fw>{path}的(开头|头部|前几行|前十行|结尾|末尾|最后几行|尾部)",
          "<fw>{path}的(前|后)(10|十|几)行"], {}),
        (["连接", "拼接", "合并"],
         ["<fw>{path}[并(显示|输出|打印)[到标准输出|到屏幕]]"], {}),
    ],
    "list_dir": [
        (["列出", "显示", "列举", "查看", "输出", "打印", "给出"],
         ["<dw>{path}[中|里|下][的](内容|文件|条目|文件列表|所有文件|文件和目录)",
          "<dw>{path}[中|里|下](有哪些|都有什么)(文件|东西|内容)",
          "有关<dw>{path}[中|里][的]文件的信息", "<dw>{path}[的](目录)?列表"], {}),
        (["列出", "显示", "列举", "查看", "输出", "打印"],
         ["(当前|这个|本)(目录|文件夹|工作目录)[中|里|下][的](内容|文件|条目|文件列表)",
          "目录(内容|清单|列表)", "[有关]文件的信息", "这里[的](文件|内容)"], {"path": "."}),
    ],
    "remove": [
        (["删除", "删掉", "移除", "去掉", "清除", "抹掉", "删去"],
         ["<fw>{path}", "<dw>{path}[及其(内容|所有内容)|以及里面的东西]",
          "(空|指定的)(目录|文件夹){path}", "{path}[这个(文件|目录|项)]"], {}),
    ],
    "make_dir": [
        (["创建", "新建", "建立", "建", "生成", "添加"],
         ["[一个][新的][空](目录|文件夹|子目录){path}", "<dw>{path}[（如果不存在）|以及缺少的上级目录]",
          "名为{path}的(目录|文件夹)"], {}),
    ],
    "move": [
        (["移动", "重命名", "改名", "挪动", "转移", "搬"],
         ["<fw>{src}(到|至|为|成){dst}", "{src}(到|至)[目标][目录]{dst}",
          "(源文件|源|文件){src}(到|至)(目标|目的地|目标文件){dst}"], {}),
        (["把", "将"],
         ["{src}(移动|移|挪|改名|重命名)(到|为|成){dst}"], {}),
    ],
    "copy": [
        (["复制", "拷贝", "备份", "复制一份"],
         ["<fw>{src}(到|至|为){dst}", "{src}(到|至)[目标][目录]{dst}",
          "(源文件|源|文件){src}(到|至)(目标|目的地|目标文件){dst}"], {}),
        (["把", "将"],
         ["{src}(复制|拷贝)(到|为|成){dst}"], {}),
    ],
    "file_info": [
        (["显示", "查看", "输出", "打印", "列出", "报告"],
         ["<fw>{path}的(状态|属性|详细信息|元数据|信息|大小和权限|修改时间)",
          "<fw>{path}[的]文件(状态|信息)", "{path}(有多大|是什么时候修改的)"], {}),
    ],
    "find_files": [
        (["查找", "搜索", "寻找", "找出", "找", "定位"],
         ["<dw>{path}(中|里|下|以下)(匹配|名为|叫)?{pattern}的文件", "在{path}(中|里|下)(匹配|名字是)?{pattern}[的文件]"], {}),
        (["查找", "搜索", "寻找", "找出"],
         ["(当前目录|这里)(中|下|以下)(匹配|名为)?{pattern}的文件", "{pattern}[文件]"], {}),
    ],
    "disk_usage": [
        (["显示", "报告", "查看", "统计", "列出", "输出", "估算"],
         ["<dw>{path}所在(文件系统|分区|磁盘)的(可用|剩余|已用)?(空间|容量|磁盘空间|使用情况)",
          "{path}(的|占用的)(磁盘|硬盘)?(空间|用量|使用量|使用情况)"], {}),
        (["显示", "报告", "查看", "统计", "列出", "输出"],
         ["(所有|全部|每个|各个)?(文件系统|磁盘|分区)的(空间|磁盘空间|使用情况|可用空间|剩余空间)",
          "(磁盘|硬盘)(空间|用量|使用情况)", "还有多少(磁盘空间|空间|存储空间)(可用|剩余)?"], {}),
    ],
    "change_dir": [
        (["切换到", "进入", "转到", "改变当前目录到", "cd", "跳到", "去"],
         ["<dw>{path}", "{path}[目录|文件夹]"], {}),
        (["把当前目录(改|设|切换)(为|到|成)", "将工作目录(改|设)为"],
         ["{path}"], {}),
    ],
    "list_processes": [
        (["显示", "列出", "查看", "报告", "输出", "打印"],
         ["(当前|正在运行的|所有|活动的)(进程|程序|任务)[的(状态|信息|快照)]", "进程(列表|状态|表)",
          "(系统|机器)(上|里)(正在运行|在跑)的(进程|程序)"], {}),
    ],
    "kill_process": [
        (["杀死", "杀掉", "终止", "结束", "停止", "kill"],
         ["(进程|任务)[号]{pid}", "(名为|叫)?{name}的(进程|程序)", "(所有|全部)名为{name}的进程", "{target_process}[这个进程]",
          "pid[为]{pid}[的进程]"], {}),
        (["发送", "向进程发送"],
         ["{signal}[信号]给[进程]{pid}", "信号{signal}(给|到)[进程]{name}"], {}),
    ],
    "start_program": [
        (["运行", "启动", "执行", "开启"],
         ["[程序|脚本|可执行文件]{path}", "{path}[并传入|带上](参数)?{args}", "{path}[在后台]"], {}),
    ],
    "set_priority": [
        (["设置", "修改", "调整", "改变"],
         ["进程{pid}的(优先级|nice值|谦让度)(为|到){nice}", "(优先级|nice值)(为|到){nice}(对于|给)进程{pid}"], {}),
    ],
    "system_info": [
        (["显示", "输出", "打印", "查看", "报告", "列出", "告诉我"],
         ["(系统|机器|主机|内核)(信息|的信息|详情)", "(内核(名称|版本|发行号)|操作系统[名称]|硬件平台|处理器类型)",
          "系统(已经)?运行[了]多(长|久)[时间]", "(系统)?(负载|平均负载|运行时间)",
          "(内存|空闲内存|已用内存|交换空间)(的)?(使用情况|用量|大小|信息)?", "(CPU|处理器)(信息|架构|的信息)",
          "(主机名|机器名|网络节点名)"], {}),
    ],
    "list_devices": [
        (["列出", "显示", "查看", "输出"],
         ["(所有)?(块设备|磁盘|硬盘|分区|存储设备)[的信息]"], {"kind": "block"}),
        (["列出", "显示", "查看", "输出"],
         ["(所有)?(网络接口|网卡|网络设备)[的(状态|信息)]"], {"kind": "network"}),
    ],
    "mount": [
        (["挂载", "安装", "装载"],
         ["[设备|分区|文件系统]{device}(到|在|于)[目录|挂载点]{target}", "{device}(到|在){target}[，类型为{fstype}]"], {}),
    ],
    "unmount": [
        (["卸载", "卸下", "解除挂载", "umount"],
         ["[挂载在]{target}[上]的(文件系统|磁盘|设备)", "{target}[上的文件系统]"], {}),
    ],
    "link_up": [
        (["启用", "激活", "打开", "开启", "启动", "接通"],
         ["[网络](接口|网卡|设备|连接){interface}", "{interface}[接口|网卡]"], {}),
        (["把", "将"],
         ["{interface}[的状态](设为|设置为|改为)(up|UP|启用)"], {}),
    ],
    "link_down": [
        (["禁用", "关闭", "停用", "断开", "关掉"],
         ["[网络](接口|网卡|设备|连接){interface}", "{interface}[接口|网卡]"], {}),
        (["把", "将"],
         ["{interface}[的状态](设为|设置为|改为)(down|DOWN|禁用)"], {}),
    ],
    "get_time": [
        (["显示", "输出", "打印", "查看", "告诉我", "报告"],
         ["(当前|现在的|系统)(日期|时间|日期和时间)", "现在(几点|是什么时间|是几号)", "今天的日期"], {}),
    ],
    "set_time": [
        (["设置", "设定", "修改", "调整", "更改", "把系统时间设为"],
         ["(系统)?(日期|时间|时钟|日期和时间)(为|到){time}", "{time}"], {}),
    ],
    "set_hostname": [
        (["设置", "修改", "更改", "设定", "改"],
         ["(主机名|主机名称|机器名|系统的主机名)(为|成){name}", "主机名{name}"], {}),
    ],
    "kernel_log": [
        (["显示", "打印", "查看", "输出", "读取"],
         ["内核(日志|消息|环形缓冲区|缓冲区)[的内容]", "(启动|驱动)(信息|消息)"], {}),
    ],
    "reboot": [
        (["重启", "重新启动", "重新引导", "复位"],
         ["(系统|机器|计算机|主机|设备)", "[现在|立即|马上]"], {}),
    ],
    "poweroff": [
        (["关机", "关闭", "关掉", "断电", "关闭电源"],
         ["(系统|机器|计算机|主机|设备)", "[现在|立即|马上]"], {}),
    ],
    "write_file": [
        (["写入", "保存", "存入", "写"],
         ["{text}(到|进)<fw>{path}[（覆盖原内容）|，覆盖原有内容]"], {}),
        (["创建", "新建", "建立"],
         ["[一个]空(文件|的文件){path}", "<fw>{path}[（空文件）]"], {"text": ""}),
    ],
    "append_file": [
        (["追加", "添加", "附加"],
         ["{text}到<fw>{path}[的](末尾|结尾|最后)", "(文本|一行){text}到{path}[末尾]"], {}),
    ],
    "help": [
        (["显示", "查看", "列出", "打印", "给出"],
         ["(帮助|帮助信息|使用说明|用法)", "(可用|支持)的命令[列表]", "命令的(用法|说明)"], {}),
    ],
    "undo": [
        (["撤销", "撤回", "还原", "回退", "取消"],
         ["(上一步|上一个操作|刚才的操作|最后一次更改|上次的修改)", "[刚才那步]"], {}),
    ],
}

FORMS = {"en": EN, "zh": ZH}
RULES = {"en": EN_RULES, "zh": ZH_RULES}

# Trailing words a description adds without changing what is asked (rendered after the
# sentence, outside hassil because of their brackets and commas).
QUALIFIERS = {
    "en": [" (the default)", " by default", ", as usual", " on standard output", " to the terminal",
           ", if possible", " (see below)", " in the usual format", " as requested",
           " (no options)", ", please"],
    "zh": ["（默认）", "，默认如此", "到标准输出", "（见下文）", "，谢谢", "。"],
}


def sentences(lang: str) -> dict[str, list[tuple[list[str], dict]]]:
    """tool -> [(hassil sentences, fixed slots)]: one sentence per object phrase."""
    out: dict = {}
    for tool, blocks in FORMS[lang].items():
        rows = []
        for verbs, objects, fixed in blocks:
            v = verb_alternative(verbs, lang)
            joiner = " " if lang == "en" else ""
            # "(a|b)?" is written [a|b] in hassil
            texts = [re.sub(r"\(([^()]*)\)\?", r"[\1]", f"{v}{joiner}{o}") for o in objects]
            rows.append((texts, dict(fixed)))
        out[tool] = rows
    return out
