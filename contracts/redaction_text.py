"""Redaction by pattern, for text that is not a whole document: pure, standard library only.

``redact_text`` masks the values of masked keys where text shows them as ``"key": value``
pairs, ``<key>value`` elements or ``key=value`` fields, and card numbers (Luhn-valid runs of
13 to 19 digits) and e-mail addresses anywhere. It is used on every string a copy keeps and on
a payload that is no whole document. ``complete_json`` closes a JSON document that was cut
short (an excerpt), so that it can be redacted by its structure instead: a pattern cannot tell
that ``"carrier"`` lies inside a masked ``"shipping"`` object, a parse can.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_plus

from contracts.data_map import MASK
from contracts.data_map_index import is_masked_key

_QUOTED_PAIR = re.compile(
    r"""(?P<q>["'])(?P<key>(?:(?!(?P=q))[^\\\n]|\\.){1,100})(?P=q)(?P<sep>\s*:\s*)"""
    r"""(?P<value>(?P<vq>["'])(?:(?!(?P=vq))[^\\]|\\.)*(?:(?P=vq)|\Z)"""
    r"""|-?[0-9][0-9.eE+-]*|true|false|True|False)""")
_ELEMENT = re.compile(r"<(?P<tag>[A-Za-z_][\w.:-]{0,100})(?P<attrs>\s[^<>]{0,1000})?>"
                      r"(?P<text>[^<]*)")
_FORM_FIELD = re.compile(r"(?:^|(?<=[&;?]))(?P<key>[^=&;?#\s]{1,100})=(?P<value>[^&;#\s]*)")
_CARD_NUMBER = re.compile(r"(?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![0-9])")
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]{1,64}@[A-Za-z0-9-]{1,63}"
                    r"(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z])")


# Nothing below can match text without one of these marks or a run of digits: most text (a
# brand, a decline message, an order id) is returned after one search, as the normalizer
# runs this per event (one pattern for all: half the cost of a search per mark, issue 19).
_SUSPECT = re.compile(r"[:=<@\x00]|[2-6](?:[ -]?[0-9]){12}")


def redact_text(text: str) -> tuple[str, int]:
    """Mask by pattern: quoted pairs, XML elements and form fields of masked keys, then card
    numbers and e-mail addresses anywhere. NUL, which PostgreSQL text refuses, goes too."""
    if _SUSPECT.search(text) is None:
        return text, 0
    count = 0

    def pair(m: re.Match[str]) -> str:
        nonlocal count
        if not is_masked_key(_unescape(m["key"])) or _holds_nothing(m["value"]):
            return m[0]
        count += 1
        return f"{m['q']}{m['key']}{m['q']}{m['sep']}{m['q']}{MASK}{m['q']}"

    def element(m: re.Match[str]) -> str:
        nonlocal count
        value = m["text"]
        if not is_masked_key(m["tag"]) or not value.strip() or value == MASK:
            return m[0]
        count += 1
        return m[0][:len(m[0]) - len(value)] + MASK

    def field(m: re.Match[str]) -> str:
        nonlocal count
        if not is_masked_key(unquote_plus(m["key"])) or m["value"] in ("", MASK):
            return m[0]
        count += 1
        return f"{m['key']}={MASK}"

    def scrub(m: re.Match[str]) -> str:
        nonlocal count
        if m.re is _CARD_NUMBER and not _luhn(m[0]):
            return m[0]
        count += 1
        return MASK

    for pattern, replace in ((_QUOTED_PAIR, pair), (_ELEMENT, element), (_FORM_FIELD, field),
                             (_CARD_NUMBER, scrub), (_EMAIL, scrub)):
        text = pattern.sub(replace, text)
    if "\x00" in text:
        count += 1
        text = text.replace("\x00", "\ufffd")
    return text, count


def _unescape(key: str) -> str:
    try:
        return json.loads(f'"{key}"')
    except ValueError:
        return key


def _holds_nothing(value: str) -> bool:
    """A quoted value (closed, or cut off by the end of an excerpt) empty or masked already."""
    if value[:1] not in ("'", '"'):
        return False
    closed = len(value) > 1 and value[-1] == value[0]
    return (value[1:-1] if closed else value[1:]) in ("", MASK)


def is_card_number(text: str) -> bool:
    return bool(_CARD_NUMBER.fullmatch(text)) and _luhn(text)


def _luhn(candidate: str) -> bool:
    digits = [int(d) for d in candidate if d.isdigit()]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2)
                for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)|[{}\[\]:,]')


def complete_json(text: str) -> str | None:
    """The text closed into a JSON document if it is the start of one, else None.

    A string cut open is closed, a key left without its value gets null, so does a literal
    or number cut short, a trailing comma goes, and open arrays and objects are closed.
    """
    if text.lstrip()[:1] not in ("{", "["):
        return None
    closers: list[str] = []
    tokens: list[str] = []
    end = 0
    for match in _TOKEN.finditer(text):
        piece = match[0]
        if piece in ("{", "["):
            closers.append("}" if piece == "{" else "]")
        elif piece in ("}", "]") and (not closers or closers.pop() != piece):
            return None
        tokens.append(piece)
        end = match.end()
    head, trailing = text[:end], text[end:].strip()
    if tokens and _cut_string(tokens[-1]):
        head = head.removesuffix("\\") + '"'
    elif trailing:  # a number or literal after the last token: keep it only if whole
        head += " " + (trailing if _is_scalar(trailing) else "null")
        tokens.append("0")
    last = tokens[-1] if tokens else ""
    if last == ":":
        head += "null"
    elif last == ",":
        head = head[:-1]
    elif (last.startswith('"') and closers and closers[-1] == "}" and len(tokens) > 1
          and tokens[-2] in ("{", ",")):
        head += ":null"  # a key whose value was cut off
    return head + "".join(reversed(closers))


def _cut_string(token: str) -> bool:
    """Whether a string token was cut by the end of the text rather than closed."""
    if len(token) < 2 or not token.endswith('"'):
        return token.startswith('"')
    backslashes = len(token[1:-1]) - len(token[1:-1].rstrip("\\"))
    return backslashes % 2 == 1  # its last quote is escaped: it never closed


def _is_scalar(text: str) -> bool:
    try:
        return not isinstance(json.loads(text), dict | list)
    except ValueError:
        return False


__all__ = ["complete_json", "is_card_number", "redact_text"]
