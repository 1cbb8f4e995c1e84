"""Escaping text that came from a file or a flag before it reaches LaTeX, HTML or Markdown output.

Method names, protocol names, labels, stems and notes in results files and table YAML files are data: one
helper per output format turns any string into text that renders literally and cannot add commands, tags,
table cells or rows.
"""

from __future__ import annotations

import html
import re

__all__ = ["html_escape", "latex_escape", "latex_label", "latex_markup", "markdown_escape", "number_text"]

_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "\n": " ",
    "\r": " ",
}


def latex_escape(text: object) -> str:
    """``text`` as literal LaTeX text: every special character escaped in one pass (so escapes are never
    escaped twice), line breaks as spaces. ``\\input{x}`` becomes ``\\textbackslash{}input\\{x\\}``."""
    return "".join(_LATEX.get(ch, ch) for ch in str(text))


# Column headings in table YAML files may use math subscripts/superscripts ("FID$_k$"); nothing else that
# LaTeX would interpret (no backslash, no braces outside a one-token subscript) passes as markup.
_SAFE_MARKUP = re.compile(r"(?:[A-Za-z0-9 .,:;()\[\]+\-/*'=]|\$[_^](?:[A-Za-z0-9]|\{[A-Za-z0-9]+\})\$)*")


def latex_markup(text: object) -> str:
    """A heading that may hold simple math sub/superscripts (``FID$_k$``): kept when it is only that,
    otherwise escaped as plain text."""
    s = str(text)
    return s if _SAFE_MARKUP.fullmatch(s) else latex_escape(s)


def latex_label(text: object) -> str:
    """A ``\\label{}`` key: letters, digits and ``:._-`` kept, anything else replaced by ``-``."""
    return re.sub(r"[^A-Za-z0-9:._-]", "-", str(text))


def html_escape(text: object) -> str:
    """``text`` as HTML text or attribute value (``&``, ``<``, ``>`` and both quotes escaped)."""
    return html.escape(str(text), quote=True)


def markdown_escape(text: object) -> str:
    """``text`` for one Markdown table cell or line: ``|`` and backslashes escaped, line breaks as spaces, and
    ``<``/``>`` as entities (Markdown renderers pass raw HTML through, so ``<script>`` must not survive)."""
    s = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(s.splitlines())


def number_text(value: float, spec: str) -> str:
    """``format(value, spec)`` without a negative zero: ``-0.0000`` (a tiny negative rounding) reads
    ``0.0000``."""
    s = format(value, spec)
    if s.startswith("-") and float(s) == 0:
        s = s[1:]
    return s
