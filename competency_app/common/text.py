"""What a typed value may hold: one rule for every form, import and command.

A single-line value (a name, a title, an address) never holds a line break or another
control character: such a value ends up in an email header, a CSV cell or a log line, where
a CR or LF splits it (and once lost a panel member's one-time link). A multi-line value
(a textarea) may hold line breaks and tabs, and nothing else below the space.

An email address is an address only, checked by the standard library's RFC 5322 parser and
then held to the plain form people type: no display name, angle brackets, comments, quoted
local part or address literal, so `lay3<evil@attacker.example>` is refused.
"""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.headerregistry import Address

# C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A textarea keeps its tabs and line breaks (CR, LF); every other control is refused.
MULTI_LINE_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
EMAIL_MAX = 254
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
EMAIL_FORMAT = "Enter an email address in the right format, like name@nhs.net"


def whole_number(raw: str | None, most: int) -> int | None:
    """`raw` as a whole number from 0 to `most`, typed in ASCII digits; else None.

    `str.isdigit` is not enough: it takes "²" and other digits `int()` then refuses, and
    Python refuses to build an int of over 4,300 digits.
    """
    if not raw or len(raw) > len(str(most)) or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= most else None


def has_control_characters(text: str, multi_line: bool = False) -> bool:
    """Whether `text` holds a character a single-line (or, with `multi_line`, a textarea)
    value may not hold."""
    pattern = MULTI_LINE_CONTROLS if multi_line else CONTROL_CHARACTERS
    return pattern.search(text) is not None


def control_character_problem(label: str, multi_line: bool = False) -> str:
    """The message for a value of the field `label` that `has_control_characters`."""
    if multi_line:
        return f"{label}: remove the control character (only line breaks and tabs may be used)"
    return f"{label}: keep it on one line, without line breaks, tabs or control characters"


def email_problem(text: str) -> str | None:
    """None when `text` (already trimmed) is a plain email address, else what is wrong.

    Parsed by `email.headerregistry.Address`, then required to be exactly the address it
    parsed to, with a dot-atom local part and a domain of DNS labels.
    """
    if not text:
        return "Enter an email address, like name@nhs.net"
    if len(text) > EMAIL_MAX:
        return f"The email address is too long (at most {EMAIL_MAX} characters)"
    if has_control_characters(text) or any(c in text for c in '<>()",; '):
        return (
            "Enter the email address alone, like name@nhs.net: no name, angle brackets, "
            "spaces or comments"
        )
    try:
        address = Address(addr_spec=text)
    except (ValueError, HeaderParseError, IndexError):
        return EMAIL_FORMAT
    local, domain = address.username, address.domain
    if address.addr_spec != text or len(local) > 64 or not _LOCAL_PART.match(local):
        return EMAIL_FORMAT
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        return EMAIL_FORMAT
    if labels[-1].isdigit():
        return EMAIL_FORMAT
    return None


SHORT_FORM_WORDS = 8


def short_form(text: str, words: int = SHORT_FORM_WORDS) -> str:
    """The text's first words: a title for lists and sentences, with the full text shown on
    demand. A text only a little longer than the limit is kept whole."""
    split = text.split()
    if len(split) <= words + 2:
        return text
    return " ".join(split[:words]).rstrip(",.;:") + "…"
