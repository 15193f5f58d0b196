"""Coverage reasons that name skills.

A `Reason` is a sentence whose parts are words and skills. As a string it names each skill
by its id ("3a.s4 is held by nobody"), the form the API has always given; a workbook cell
takes `in_words` (the skill's short text in quotes, its id in brackets);
a page renders its `parts` (the `reason` macro in `coverage/_cells.html`), naming each skill
by its text, short, with the full text on demand. The words are built here, once.
"""

from __future__ import annotations

from typing import Protocol

from competency_app.common.text import short_form


class NamedSkill(Protocol):
    key: str
    text: str


Part = str | NamedSkill


class Reason(str):
    """A reason in words: `str(reason)` names skills by id, `parts` keeps the skills."""

    parts: tuple[Part, ...]

    def __new__(cls, *parts: Part) -> Reason:
        merged: list[Part] = []
        for part in parts:
            if isinstance(part, Reason):
                merged.extend(part.parts)
            elif isinstance(part, str) and merged and isinstance(merged[-1], str):
                merged[-1] = merged[-1] + part
            elif part != "":
                merged.append(part)
        text = "".join(p if isinstance(p, str) else p.key for p in merged)
        reason = super().__new__(cls, text)
        reason.parts = tuple(merged)
        return reason

    @property
    def predicate(self) -> Reason:
        """What is said of the skill a reason starts with ("3a.s4 is held by nobody" ->
        "held by nobody"), for a line that names the skill already; else the whole."""
        if len(self.parts) < 2 or isinstance(self.parts[0], str):
            return self
        rest = self.parts[1]
        if not isinstance(rest, str):
            return self
        for lead in (" is ", ": "):
            if rest.startswith(lead):
                rest = rest[len(lead) :]
        return Reason(rest, *self.parts[2:])

    @property
    def after_colon(self) -> Reason:
        """What follows the first ": " of a reason that starts with words ("Effective
        communication: all 8 have met it" -> "all 8 have met it"); else the whole."""
        first = self.parts[0] if self.parts else ""
        if not isinstance(first, str) or ": " not in first:
            return self
        return Reason(first.split(": ", 1)[1], *self.parts[1:])

    @property
    def in_words(self) -> str:
        """The reason for a reader without the page's "full text" links (a workbook cell):
        each skill by its short text in quotes, its id in brackets to look it up."""
        return "".join(
            p if isinstance(p, str) else f"“{short_form(p.text)}” ({p.key})" for p in self.parts
        )

    @property
    def skills(self) -> list[NamedSkill]:
        """The skills named, each once, in order."""
        seen: list[NamedSkill] = []
        for part in self.parts:
            if not isinstance(part, str) and part not in seen:
                seen.append(part)
        return seen


def in_words(why: str) -> str:
    """`why` as a workbook gives it: a `Reason` in words, any other text as it is."""
    return why.in_words if isinstance(why, Reason) else why


def joined(parts: list, separator: str) -> Reason:
    """The parts with `separator` between them."""
    pieces: list[Part] = []
    for n, part in enumerate(parts):
        pieces.extend([separator, part] if n else [part])
    return Reason(*pieces)


def summarise(reasons: list[Reason], limit: int = 3) -> Reason:
    """The first `limit` reasons, and how many more."""
    more = f"; and {len(reasons) - limit} more" if len(reasons) > limit else ""
    return Reason(joined(reasons[:limit], "; "), more)


def skill_list(skills: list[NamedSkill]) -> Reason:
    """ "A, B and C"; past four, the first three "and N more skills"."""
    if len(skills) > 4:
        return Reason(joined(skills[:3], ", "), f" and {len(skills) - 3} more skills")
    if len(skills) == 1:
        return Reason(skills[0])
    return Reason(joined(skills[:-1], ", "), " and ", skills[-1])


def grouped(skills: list, shared, total: int) -> list[Reason]:
    """Reasons, with skills that share one ("held by nobody", "held only by X") named
    together: "3a.s4 is held by nobody", "1a.s1, 1a.s2 and 1a.s3 are held only by X".
    `skills` are judged `SkillCoverage`s; `shared(s)` gives the shared words or None."""
    groups: dict[str, list[NamedSkill]] = {}
    reasons: list[Reason | str] = []
    for s in skills:
        reason = shared(s)
        if reason is None:
            reasons.append(s.why)
        else:
            if reason not in groups:
                groups[reason] = []
                reasons.append(reason)
            groups[reason].append(s.skill)

    def said(reason: str) -> Reason:
        named = groups[reason]
        if len(named) == total and total > 1:
            return Reason(
                "no skill is held by anyone"
                if reason == "held by nobody"
                else f"every skill is {reason}"
            )
        return Reason(skill_list(named), f" {'is' if len(named) == 1 else 'are'} {reason}")

    return [said(r) if r in groups else Reason(r) for r in reasons]
