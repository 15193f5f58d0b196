"""The framework file (competency_app/data/framework.yaml) against its source documents:
counts per element and verbatim text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from competency_app.config import DEFAULT_FRAMEWORK_PATH
from competency_app.framework.loader import parse_framework
from competency_app.framework.schema import FrameworkDocument

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORK = DEFAULT_FRAMEWORK_PATH
SOURCE = ROOT / "data" / "sources" / "competency-framework.txt"
JOB = ROOT / "data" / "sources" / "keyworker-job-description.txt"

# (skills, tasks) per element, counted in the source table (continuation rows included).
EXPECTED = {
    "1a": (6, 6),  # 5 task bullets; the last holds two tasks run together (split)
    "1b": (6, 3),
    "2": (13, 4),  # 3 + 10 skills, 2 + 2 tasks over two rows
    "3a": (6, 4),
    "3b": (5, 4),
    "4a": (5, 7),  # 1 + 4 skills, 2 + 5 tasks over two rows
    "4b": (12, 2),  # 11 bullets + 1 paragraph skill; a repeated task recorded once
    "4c": (5, 6),
}
# Differences between bullets in the source and items in the file, each explained in the
# element's source_notes: +1 task (1a split), -1 task (4b duplicate), +1 skill (4b paragraph).
SPLIT_TASK = ("1a.t5", "1a.t6")
JOINED_TASK = "4b.t2"
PARAGRAPH_SKILL = "4b.s5"
# A page number caught in a criterion's text by the extraction, left out (source_notes).
PAGE_NUMBER_CRITERION = "spec.keyworker.c09"
PAGE_NUMBER = ("support the 32 Keyworker", "support the Keyworker")
# Each lead-in of the person specification and the criteria it governs: the bullets that
# follow it in the source up to the next category.
LEAD_INS = {
    # (the desirable column's bullets sit between, in the same row, before the page break)
    "The post holder will have a proven understanding of:": (
        range(4, 13),
        "Experience Experience of:",
    ),
    "Experience of:": (range(16, 18), "Skills and Competencies"),
}


def normalise(text: str) -> str:
    text = re.sub(r"<[^>]+>", " ", text)
    text = text.replace("●", " ").replace("•", " ").replace("**", "")
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def document() -> FrameworkDocument:
    return parse_framework(FRAMEWORK.read_bytes(), "framework.yaml")


@pytest.fixture(scope="module")
def table() -> str:
    text = SOURCE.read_text(encoding="utf-8")
    start = text.index("Competency\tSkill to be demonstrated")
    return text[start : text.index("About the Council for Disabled Children")]


def test_file_is_valid_and_self_consistent(document):
    assert document.check_references() == []
    assert yaml.safe_load(FRAMEWORK.read_bytes())["schema_version"] == 2


def test_counts_per_element_match_the_source(document):
    counts = {e.id: (len(e.skills), len(e.tasks)) for e in document.elements()}
    assert counts == EXPECTED


def test_bullet_accounting(document, table):
    skills = sum(len(e.skills) for e in document.elements())
    tasks = sum(len(e.tasks) for e in document.elements())
    bullets = table.count("●")
    assert skills + tasks == bullets + 1 - 1 + 1  # split, duplicate, paragraph


def test_every_text_is_verbatim_from_the_source(document, table):
    source = normalise(SOURCE.read_text(encoding="utf-8"))
    for element in document.elements():
        assert element.title in source, element.id
        if element.alt_title:
            assert element.alt_title in source, element.id
        for area in element.areas:
            assert area.title in source or area.heading_in_source in source, area.id
        for item in [*element.skills, *element.tasks]:
            if item.id == JOINED_TASK:
                first, _, rest = item.text.partition(" in order to prevent ")
                assert f"{first} in order to prevent" in source
                assert rest in source
            else:
                assert item.text in source, item.id
        if element.closing_statement:
            assert element.closing_statement in source
    for value in document.core_values:
        assert f"{value.title} – {value.description}" in source
    for competency in document.competencies:
        assert competency.title in source
    # the "(enhanced)" marker is data
    enhanced = [s for e in document.elements() for s in e.skills if s.enhanced]
    assert [s.id for s in enhanced] == ["2.s12"]
    assert f"{enhanced[0].text} (enhanced)" in source


def test_named_special_cases(document, table):
    items = {i.id: i for e in document.elements() for i in [*e.skills, *e.tasks]}
    merged = normalise(table)
    first, second = (items[key].text for key in SPLIT_TASK)
    assert f"{first} {second}" in merged  # one bullet in the source, two tasks here
    assert items[PARAGRAPH_SKILL].area == "4b.ii"
    element_4b = next(e for e in document.elements() if e.id == "4b")
    area_iii = next(a for a in element_4b.areas if a.id == "4b.iii")
    assert area_iii.no_skills_note
    assert not [s for s in element_4b.skills if s.area == "4b.iii"]
    for element in document.elements():
        if element.id in ("1a", "2", "4a", "4b"):
            assert element.source_notes, element.id


def test_person_specification_is_verbatim_and_complete(document):
    source = normalise(JOB.read_text(encoding="utf-8"))
    spec = document.person_specifications[0]
    for criterion in spec.criteria:
        if criterion.id == "spec.keyworker.c08":  # runs across a page break in the source
            head, _, tail = criterion.text.partition(" children and young people ")
            assert f"{head} children and young" in source and tail in source
        elif criterion.id == PAGE_NUMBER_CRITERION:  # the page number left out, and said so
            assert criterion.text.replace(*PAGE_NUMBER) not in source
            assert criterion.text.replace(PAGE_NUMBER[1], PAGE_NUMBER[0]) in source
        else:
            assert criterion.text in source, criterion.id
    noted = {c.id for c in spec.criteria if c.source_notes}
    assert noted == {PAGE_NUMBER_CRITERION}
    assert '"support the 32 Keyworker function"' in spec.criteria[8].source_notes
    assert "page number" in spec.criteria[8].source_notes
    kinds = [(c.category, c.requirement) for c in spec.criteria]
    assert kinds.count(("Qualifications and Knowledge", "essential")) == 12
    assert kinds.count(("Qualifications and Knowledge", "desirable")) == 3
    assert kinds.count(("Experience", "essential")) == 3
    assert kinds.count(("Experience", "desirable")) == 2
    assert kinds.count(("Skills and Competencies", "essential")) == 7
    assert all(c.links for c in spec.criteria if c.requirement == "essential")
    rule = document.interview_scoring.appointable_rule
    assert (rule.min_agreed_score_essential, rule.forbidden_scores) == (3, [1])
    assert [lvl.label for lvl in document.interview_scoring.levels] == [
        "Poor",
        "Weak",
        "Acceptable",
        "Good",
        "Excellent",
    ]


def test_every_element_is_developed_by_a_module(document):
    skill_to_element = {s.id: e.id for e in document.elements() for s in e.skills}
    developed = set()
    for module in document.elearning:
        for ref in module.develops:
            developed.add(skill_to_element.get(ref, ref))
    assert {e.id for e in document.elements()} <= developed
    titles = " ".join(m.title for m in document.elearning)
    for needle in [
        "keyworker",
        "Oliver McGowan",
        "Mental Capacity Act",
        "Mental Health Act",
        "Safeguarding Children",
        "Safeguarding Adults",
        "Dynamic support register",
        "Trauma-informed",
        "Positive Behaviour Support",
        "Personalised care",
        "Co-production",
    ]:
        assert needle.lower() in titles.lower(), needle


def test_lead_ins_stand_above_every_criterion_they_govern(document):
    """Each lead-in is in the source once, every criterion it is given on follows it before
    the next category, no criterion keeps it glued into its text, and the criterion read on
    its own (`full_text`) is the lead-in, then the bullet."""
    source = normalise(JOB.read_text(encoding="utf-8"))
    criteria = {c.id: c for c in document.person_specifications[0].criteria}
    for lead_in, (numbers, next_category) in LEAD_INS.items():
        assert source.count(lead_in) == 1, lead_in
        start = source.index(lead_in)
        end = source.index(next_category, start)
        governed = {f"spec.keyworker.c{n:02d}" for n in numbers}
        assert {k for k, c in criteria.items() if c.lead_in == lead_in} == governed
        for key in sorted(governed):
            criterion = criteria[key]
            assert not criterion.text.startswith(lead_in), key
            assert criterion.full_text == f"{lead_in} {criterion.text}"
            words = criterion.text.replace(*reversed(PAGE_NUMBER))[:40]
            assert start < source.index(words, start) < end, key
    everyone_governed = {f"spec.keyworker.c{n:02d}" for ns, _ in LEAD_INS.values() for n in ns}
    assert {k for k, c in criteria.items() if c.lead_in} == everyone_governed
