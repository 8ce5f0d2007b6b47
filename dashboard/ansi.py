"""Job log lines for the browser, pure: HTML-escaped text with ANSI colours turned into spans
with classes (never inline styles), and which lines look like errors."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_SGR = re.compile(r"\x1b\[([0-9;]*)m")
# Other escape sequences (cursor moves, erase line, OSC titles) are dropped.
_OTHER = re.compile(r"\x1b(?:\[[0-9;?]*[A-Za-ln-z]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_ERROR = re.compile(r"\b(errors?|failed|failures?|fatal|exception|traceback)\b|\[!\]|✗|❌", re.IGNORECASE)
# "0 failed" in a summary is good news, not an error.
_ZERO_BEFORE = re.compile(r"(?:^|[^0-9])0 $")
_COLOURS = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")


def _classes(codes: list[int], state: dict[str, str]) -> None:
    i = 0
    while i < len(codes):
        code = codes[i]
        if code == 0:
            state.clear()
        elif code == 1:
            state["b"] = "ansi-bold"
        elif code == 2:
            state["d"] = "ansi-dim"
        elif code == 3:
            state["i"] = "ansi-italic"
        elif code == 4:
            state["u"] = "ansi-underline"
        elif code in (22,):
            state.pop("b", None)
            state.pop("d", None)
        elif code == 23:
            state.pop("i", None)
        elif code == 24:
            state.pop("u", None)
        elif 30 <= code <= 37:
            state["fg"] = f"ansi-{_COLOURS[code - 30]}"
        elif 90 <= code <= 97:
            state["fg"] = f"ansi-bright-{_COLOURS[code - 90]}"
        elif code == 39:
            state.pop("fg", None)
        elif 40 <= code <= 47:
            state["bg"] = f"ansi-bg-{_COLOURS[code - 40]}"
        elif 100 <= code <= 107:
            state["bg"] = f"ansi-bg-bright-{_COLOURS[code - 100]}"
        elif code == 49:
            state.pop("bg", None)
        elif code in (38, 48) and i + 1 < len(codes):
            # 256-colour and true-colour: skip their arguments (no class for them).
            i += 2 if codes[i + 1] == 5 else 4
        i += 1


def to_html(line: str) -> Markup:
    """One log line as safe HTML: text escaped, colours as `<span class="ansi-...">`."""
    line = _OTHER.sub("", line.replace("\r", ""))
    out: list[str] = []
    state: dict[str, str] = {}
    pos = 0
    for match in _SGR.finditer(line):
        out.append(_span(line[pos : match.start()], state))
        codes = [int(c) for c in match.group(1).split(";") if c.isdigit()] or [0]
        _classes(codes, state)
        pos = match.end()
    out.append(_span(line[pos:], state))
    return Markup("".join(out))


def _span(text: str, state: dict[str, str]) -> str:
    if not text:
        return ""
    escaped = str(escape(text))
    if not state:
        return escaped
    return f'<span class="{" ".join(sorted(state.values()))}">{escaped}</span>'


def plain(line: str) -> str:
    """The line without any escape sequence."""
    return _OTHER.sub("", _SGR.sub("", line))


def looks_like_error(line: str) -> bool:
    text = plain(line)
    return any(not _ZERO_BEFORE.search(text[: m.start()]) for m in _ERROR.finditer(text))
