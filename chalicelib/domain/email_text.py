"""The words of an email: HTML reduced to text, the quoted history of a reply trimmed, and an
agent's plain text turned into the HTML part of what we send. Pure (standard library only)."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

_BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
                     "blockquote", "section", "article", "header", "footer", "hr", "pre"})
_SKIPPED = frozenset({"script", "style", "head", "title", "template", "noscript"})
# Mail clients wrap the message being answered in these; what is inside is history, not the reply.
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote", "divRplyFwdMsg",
                  "OutlookMessageHeader", "appendonsend")


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0  # depth inside elements whose text is not the message's
        self._stack: list[tuple[str, bool]] = []
        self._history = False  # past the start of the quoted message: nothing after it is the reply

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "blockquote" or _is_quote(attrs):
            self._history = True
        skip = tag in _SKIPPED
        if tag not in ("br", "hr", "img", "meta", "link", "input"):
            self._stack.append((tag, skip))
            if skip:
                self._skip += 1
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            name, skip = self._stack.pop()
            if skip:
                self._skip -= 1
            if name == tag:
                break
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip and not self._history:
            self.parts.append(data)


def _is_quote(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if name in ("class", "id") and value and any(c in value for c in _QUOTE_CLASSES):
            return True
        if name == "type" and value == "cite":
            return True
    return False


def html_to_text(html: str) -> str:
    """The readable text of an HTML body: no markup, scripts, styles or quoted history."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).replace("\xa0", " ").splitlines()]
    return _squeeze_blank_lines(lines)


def _squeeze_blank_lines(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


# Where the history of a plain-text reply begins: "On Tue, ... wrote:", Outlook's separator and
# header block, "Sent from my iPhone"-style footers are kept (they are the customer's own words).
_ATTRIBUTION = re.compile(
    r"^\s*(On|Le|El|Am|Em|Il)\s.{0,200}(wrote|a écrit|escribió|schrieb|escreveu|ha scritto)\s*:\s*$", re.IGNORECASE)
_SEPARATORS = (
    re.compile(r"^\s*-{2,}\s*(Original Message|Forwarded message|Mensaje original)\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{20,}\s*$"),
    re.compile(r"^\s*From:\s.+$"),
)


def trim_quoted(text: str) -> str:
    """A reply without the message it quotes: cut at the first attribution line ("On ... wrote:",
    which mail clients may wrap over two lines), Outlook separator or header block, and drop
    trailing `>` lines. A message that is all quote keeps its text."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = len(lines)
    for i, line in enumerate(lines):
        joined = line + " " + lines[i + 1] if i + 1 < len(lines) else line
        if _ATTRIBUTION.match(line) or (line.strip().lower().startswith(("on ", "le ", "el ", "am "))
                                        and _ATTRIBUTION.match(joined)):
            cut = i
            break
        if any(p.match(line) for p in _SEPARATORS) and i > 0:
            cut = i
            break
    kept = lines[:cut]
    while kept and (kept[-1].lstrip().startswith(">") or not kept[-1].strip()):
        kept.pop()
    body = "\n".join(line.rstrip() for line in kept).strip()
    return body or text.strip()


_URL = re.compile(r"https?://[^\s<>\"']+")


def text_to_html(text: str) -> str:
    """An agent's plain text as the HTML alternative: escaped, paragraphs kept, links clickable,
    readable on a phone."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    rendered = []
    for paragraph in paragraphs:
        pieces, at = [], 0
        for match in _URL.finditer(paragraph):
            url = match.group(0).rstrip(".,;:!?)")
            pieces.append(escape(paragraph[at:match.start()]))
            pieces.append(f'<a href="{escape(url)}">{escape(url)}</a>')
            at = match.start() + len(url)
        pieces.append(escape(paragraph[at:]))
        rendered.append("<p>" + "".join(pieces).replace("\n", "<br>") + "</p>")
    return ('<!doctype html><html><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
            '<body style="font-family: -apple-system, Segoe UI, Roboto, Arial, sans-serif; font-size: 16px; '
            'line-height: 1.5; color: #1a1a1a; margin: 0; padding: 16px;">'
            + "".join(rendered) + "</body></html>")
