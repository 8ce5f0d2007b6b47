"""Log lines for the browser: escaped text, ANSI colours as classed spans, error lines found."""

from __future__ import annotations

from dashboard.ansi import looks_like_error, plain, to_html


def test_text_is_escaped_and_colours_become_classes() -> None:
    html = to_html('\x1b[31m<b>"x"</b>\x1b[0m & \x1b[1;92mok\x1b[22m!')
    assert html == (
        '<span class="ansi-red">&lt;b&gt;&#34;x&#34;&lt;/b&gt;</span> &amp; '
        '<span class="ansi-bold ansi-bright-green">ok</span><span class="ansi-bright-green">!</span>'
    )


def test_other_escape_sequences_and_carriage_returns_are_dropped() -> None:
    assert to_html("\x1b[2K\rprogress \x1b]0;title\x07done\x1b[?25l") == "progress done"
    assert to_html("\x1b[38;5;208morange\x1b[39m") == "orange"  # 256 colours: no class, text kept


def test_error_lines() -> None:
    assert looks_like_error("\x1b[31mFAILED\x1b[0m test_checkout")
    assert looks_like_error("Error: boom") and looks_like_error("Traceback (most recent call last):")
    assert looks_like_error("[!] Could not find action") and looks_like_error("tests: 1 failed, 5 passed")
    assert not looks_like_error("instep: tests: 0 error, 0 failed, 6 passed, 0 skipped")
    assert not looks_like_error("compiling errorhandler.c")
    assert plain("\x1b[1mbold\x1b[0m") == "bold"
