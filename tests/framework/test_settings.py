"""The typed framework settings: built from the schema classes, one validity rule for skills
and values, and no module reading the framework's rules by string key."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from competency_app.accounts.models import Role
from competency_app.assessments import services as assessments
from competency_app.assessments.models import CurrentRating
from competency_app.coverage.services import coverage_for_team
from competency_app.extensions import db
from competency_app.framework.schema import AppointableRule, RatingLevel
from competency_app.framework.services import current_version
from competency_app.framework.settings import (
    FrameworkSettings,
    Validity,
    add_months,
)
from tests.factories import commit, make_team, make_user

PACKAGE = Path(__file__).resolve().parents[2] / "competency_app"


def test_settings_are_typed_and_built_once_per_version(app, framework):
    with app.app_context():
        version = current_version()
        settings = version.settings
        assert isinstance(settings, FrameworkSettings)
        assert settings is current_version(structure=True).settings
        scale = settings.scale
        assert all(isinstance(level, RatingLevel) for level in scale.levels)
        assert scale.competent_level == 2 and scale.competent_label == "Competent"
        assert scale.labels[scale.competent_level] == "Competent"
        assert scale.values == {level.value for level in scale.levels}
        assert scale.names[2] == "2 Competent" and scale.top == scale.levels[-1].value
        assert settings.validity == Validity(12)
        assert settings.expiring_soon == timedelta(days=settings.expiring_soon_days)
        assert settings.coverage_rule == "each_skill"
        interview = settings.interview
        assert isinstance(interview.appointable_rule, AppointableRule)
        assert interview.appointable_rule.min_agreed_score_essential == 3
        assert interview.scale.values == {1, 2, 3, 4, 5}
        assert interview.gap_fit_min_score == 4
        assert settings.person_specifications[0].id == "spec.keyworker"
        assert version.person_specification_title == settings.person_specifications[0].title
        with pytest.raises(AttributeError):
            settings.validity = Validity(1)  # type: ignore[misc]


def test_validity_counts_calendar_months():
    assert Validity(1).valid_until(datetime(2026, 1, 31, 9, tzinfo=UTC)) == datetime(
        2026, 2, 28, 9, tzinfo=UTC
    )
    assert Validity(12).valid_until(datetime(2028, 2, 29, tzinfo=UTC)) == datetime(
        2029, 2, 28, tzinfo=UTC
    )
    # across a 29 February, twelve calendar months are 366 days (not 365.28)
    assert Validity(12).valid_until(datetime(2027, 6, 1, tzinfo=UTC)) == datetime(
        2028, 6, 1, tzinfo=UTC
    )
    assert add_months(datetime(2026, 11, 30, tzinfo=UTC), 3) == datetime(2027, 2, 28, tzinfo=UTC)


@pytest.mark.parametrize("months", [1, 6, 12, 24, 60])
def test_the_query_bound_never_drops_a_valid_validation(months):
    validity = Validity(months)
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    for day in range(0, 1500, 7):
        now = start + timedelta(days=day, hours=day % 24)
        bound = validity.earliest_valid(now)
        # the latest validation the query leaves out has lapsed by `now`
        assert validity.valid_until(bound) <= now


def test_values_and_skills_lapse_on_the_same_day(app, framework):
    """The one validity rule: a sign-off made on 1 June 2027 counts for skills and values
    until 1 June 2028 (twelve calendar months, 366 days across 29 February 2028)."""
    validated_at = datetime(2027, 6, 1, 12, tzinfo=UTC)
    with app.app_context():
        team = make_team("north")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=team)
        pat = make_user("pat.prac", Role.PRACTITIONER, team=team, supervisor=supervisor)
        commit()
        app.config["FROZEN_NOW"] = validated_at
        try:
            assessment = assessments.start_assessment(pat)
            version = assessment.framework_version
            for element in assessments.elements_of(version):
                ratings = {s.id: (2, "") for s in element.skills}
                assessments.save_element(assessment, pat, element, ratings, None)
            reflections = {v.id: "reflection" for v in version.values}
            assessments.save_reflections(assessment, pat, reflections, None)
            assessments.submit(assessment, pat, None)
            # the values count once the supervisor's review says evidenced for each
            reviews = {v.id: ("evidenced", "") for v in version.values}
            assessments.review_values(assessment, supervisor, reviews, None)
            assessments.validate(assessment, supervisor, {}, None)
            commit()
        finally:
            app.config.pop("FROZEN_NOW")
        skills_expire = db.session.scalar(select(func.min(CurrentRating.expires_at)))
        lapse = version.settings.validity.valid_until(validated_at)
        assert skills_expire.replace(tzinfo=UTC) == lapse == datetime(2028, 6, 1, 12, tzinfo=UTC)
        # a day before the lapse (and 365 days after the sign-off) both still count
        before = coverage_for_team(team, version, lapse - timedelta(hours=23), cached=False)
        assert before.values.met == {pat.id: lapse}
        after = coverage_for_team(team, version, lapse + timedelta(seconds=1), cached=False)
        assert pat.id not in after.values.met


# ---- no module reads the framework's settings by string key ----------------------------

# The stored document's sections and the rule names inside them: only the settings builder
# (framework/settings.py) reads these from the JSON.
SETTING_KEYS = {
    "rating_scale",
    "rules",
    "interview_scoring",
    "metadata",
    "person_specifications",
    "levels",
    "competent_level",
    "validity_months",
    "expiring_soon_days",
    "default_min_holders",
    "coverage_rule",
    "expected_of_everyone",
    "appointable_rule",
    "min_agreed_score_essential",
    "forbidden_scores",
    "forbidden_applies_to",
    "gap_fit_min_score",
    "short_title",
    "descriptor",
}
BUILDER = PACKAGE / "framework" / "settings.py"
FRAMEWORK = PACKAGE / "framework"
# Modules that store or compare the document as a whole may touch `.document`.
DOCUMENT_OWNERS = {BUILDER, FRAMEWORK / "models.py", FRAMEWORK / "services.py"}
# Comparing two versions walks every section of both stored documents, item by item; reading
# a CASE package maps a whole document, section by section, into the schema.
WHOLE_DOCUMENT_FUNCTIONS = {
    (FRAMEWORK / "services.py", "_flatten"),
    (FRAMEWORK / "case.py", "from_case"),
}


def _string_key_reads(path: Path, root: Path = PACKAGE) -> list[str]:
    found = []
    tree = ast.parse(path.read_text(), str(path))
    exempt = [
        range(node.lineno, (node.end_lineno or node.lineno) + 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and (path, node.name) in WHOLE_DOCUMENT_FUNCTIONS
    ]
    for node in ast.walk(tree):
        if any(getattr(node, "lineno", 0) in lines for lines in exempt):
            continue
        key = None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            key = node.slice.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            key = node.args[0].value
        if key in SETTING_KEYS:
            found.append(f"{path.relative_to(root)}:{node.lineno}: [{key!r}]")
        if isinstance(node, ast.Attribute) and node.attr in ("rating_scale", "document"):
            if node.attr == "document" and path in DOCUMENT_OWNERS:
                continue
            if node.attr == "rating_scale" and path.parent.name == "framework":
                continue  # the schema's typed field, used by the loader and the builder
            found.append(f"{path.relative_to(root)}:{node.lineno}: .{node.attr}")
        if isinstance(node, ast.Constant) and node.value == 30.44:
            found.append(f"{path.relative_to(root)}:{node.lineno}: months as 30.44 days")
    return found


def test_no_module_reads_framework_settings_by_string_key():
    modules = [p for p in PACKAGE.rglob("*.py") if p != BUILDER]
    assert len(modules) > 40
    found = [hit for path in modules for hit in _string_key_reads(path)]
    assert found == [], "read these through version.settings:\n" + "\n".join(found)


TEMPLATE_PATTERN = re.compile(
    r"rating_scale|\.rules\b|\.document\b|validity_months|\[\s*['\"](?:"
    + "|".join(sorted(SETTING_KEYS))
    + r")['\"]\s*\]"
)


def test_no_template_reads_framework_settings_by_string_key():
    templates = list((PACKAGE / "templates").rglob("*.html"))
    assert len(templates) > 20
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in templates
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if TEMPLATE_PATTERN.search(line)
    ]
    assert found == [], "read these through version.settings:\n" + "\n".join(found)


def test_the_guard_finds_a_string_key_read(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "a = version.rating_scale['levels']\n"
        "b = version.document['rules'].get('coverage_rule')\n"
        "c = months * 30.44\n"
    )
    found = _string_key_reads(sample, root=tmp_path)
    assert len(found) == 6, found
    assert TEMPLATE_PATTERN.search("{% for l in version.rating_scale.levels %}")
    assert TEMPLATE_PATTERN.search("{{ scoring['levels'] }}")
    assert not TEMPLATE_PATTERN.search("{% for level in version.settings.scale.levels %}")
