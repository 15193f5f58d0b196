"""A version that rewords a skill: validations of the earlier wording are flagged where they
are read, and with `revalidate: true` stop counting from the version's load (coverage, the
teams' stored figures), without it count until their normal expiry."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import yaml
from sqlalchemy import select

from competency_app.accounts.models import Role
from competency_app.assessments import services as assessments
from competency_app.assessments.models import CurrentRating, ValidatedRating
from competency_app.clock import utcnow
from competency_app.coverage.models import StoredTeamFigures
from competency_app.coverage.services import coverage_for_team
from competency_app.coverage.stored import stored_figures
from competency_app.extensions import db
from competency_app.framework.loader import parse_framework
from competency_app.framework.models import Skill
from competency_app.framework.services import current_version, load_framework
from competency_app.framework.settings import forget_cached_settings
from tests.conftest import sign_in
from tests.factories import (
    PASSWORD,
    commit,
    latest_audit,
    make_team,
    make_user,
    reflect_on_values,
    validated_assessment,
)

SKILL = "1a.s2"
NEW_TEXT = (
    "A compassionate, empathetic and trauma-informed approach to children, young people "
    "and their families"
)
MEMBERS = ["ann.one", "bob.two", "cat.three", "dan.four", "eve.five"]


def reworded_file(framework_bytes: bytes, revalidate: bool, text: str = NEW_TEXT) -> bytes:
    data = yaml.safe_load(framework_bytes)
    data["metadata"]["version_label"] = "Trauma-informed"
    for competency in data["competencies"]:
        for element in competency["elements"]:
            for skill in element["skills"]:
                if skill["id"] == SKILL:
                    skill["text"] = text
                    if revalidate:
                        skill["revalidate"] = True
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()


def load(raw: bytes) -> None:
    load_framework(parse_framework(raw, "v2.yaml"), "v2.yaml", loaded_by="test")
    commit()


@pytest.fixture
def team(app, framework):
    """Five keyworkers in one team, each holding every skill (validated at Competent)."""
    with app.app_context():
        north = make_team("north")
        sue = make_user("sue.super", Role.SUPERVISOR, team=north)
        people = [
            make_user(name, Role.PRACTITIONER, team=north, supervisor=sue) for name in MEMBERS
        ]
        for person in people:
            validated_assessment(person, sue)
        commit()
        return {"team": north.id, "sue": sue.id, "people": [p.id for p in people]}


def holders(app, team_id: int) -> int:
    from competency_app.accounts.models import Team

    with app.app_context():
        cov = coverage_for_team(db.session.get(Team, team_id), current_version())
        return next(s.holders for s in cov.skills if s.skill.key == SKILL)


def profile_page(app, client, person_id: int) -> str:
    sign_in(client, "sue.super@example.nhs.uk", PASSWORD)
    response = client.get(f"/people/{person_id}/profile")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def skill_row(page: str, text: str) -> str:
    """The profile's table row of the skill whose text is `text`."""
    match = re.search(
        r"<tr[^>]*>\s*<td[^>]*>(?:<span[^>]*>Skill </span>)?"
        + re.escape(text)
        + r"</td>(.*?)</tr>",
        page,
        re.S,
    )
    assert match, text
    return match.group(1)


def test_without_revalidate_the_validations_count_but_are_flagged(
    app, client, team, framework_bytes
):
    assert holders(app, team["team"]) == 5
    with app.app_context():
        load(reworded_file(framework_bytes, revalidate=False))
        event = latest_audit("framework_loaded")
        assert event.detail["reworded_skills"] == [SKILL]
        assert event.detail["validations_flagged"] == 5
        assert event.detail["revalidate_skills"] == []
        assert event.detail["validations_stopped"] == 0
    assert holders(app, team["team"]) == 5

    page = profile_page(app, client, team["people"][0])
    row = skill_row(page, NEW_TEXT)
    assert "Validated against earlier wording" in row
    assert "counts until its next review" in row
    assert re.search(r"until \d{1,2} \w+ \d{4}", row)  # still counted, with its expiry
    assert 'data-reworded="flagged"' in row
    assert "1 skill reworded since it was validated still counts until the next review" in page
    # the other skills are not flagged
    assert page.count('data-reworded="') == 1


def test_with_revalidate_they_stop_counting_and_the_stored_figures_follow(
    app, client, team, framework_bytes
):
    from competency_app.accounts.models import Team

    assert holders(app, team["team"]) == 5
    with app.app_context():
        before = db.session.get(Team, team["team"]).coverage_epoch
        load(reworded_file(framework_bytes, revalidate=True))
        version = current_version()
        event = latest_audit("framework_loaded")
        assert event.detail["revalidate_skills"] == [SKILL]
        assert event.detail["validations_stopped"] == 5
        north = db.session.get(Team, team["team"])
        assert north.coverage_epoch > before
        # the team's stored figures are for the new version and epoch, without the holders
        row = db.session.get(StoredTeamFigures, north.id)
        assert (row.content_hash, row.epoch) == (version.content_hash, north.coverage_epoch)
        ids = sorted(team["people"])
        figures = stored_figures(north, version, row.members, utcnow())
        assert figures is not None and SKILL not in figures.skills
        assert figures.skills["1a.s1"].holders == len(ids)
        # the history keeps each validation's own expiry
        kept = db.session.scalars(
            select(ValidatedRating.expires_at).where(ValidatedRating.skill_key == SKILL)
        ).all()
        assert all(expiry > utcnow() + timedelta(days=300) for expiry in kept)
    assert holders(app, team["team"]) == 0

    page = profile_page(app, client, team["people"][0])
    row = skill_row(page, NEW_TEXT)
    assert "Validated against earlier wording" in row
    assert "no longer counts" in row and 'data-reworded="revalidate"' in row
    assert not re.search(r"until \d{1,2} \w+ \d{4}", row)
    assert "Validate again" in page and "Expired" not in row
    # the keyworker's home says so too
    own = app.test_client()
    sign_in(own, "ann.one@example.nhs.uk", PASSWORD)
    home = html.unescape(own.get("/").get_data(as_text=True))
    assert "1 validated skill was reworded in the framework since" in home


def test_revalidate_on_an_unchanged_text_means_nothing(app, team, framework_bytes):
    original = (
        "A compassionate and empathetic approach to children, young people and their families"
    )
    with app.app_context():
        raw = reworded_file(framework_bytes, revalidate=True, text=original)
        raw = raw.replace(b"version_label: Trauma-informed", b"version_label: Same words")
        load(raw)
        version = current_version()
        assert version.number == 2
        skill = db.session.scalar(
            select(Skill).where(Skill.version_id == version.id, Skill.key == SKILL)
        )
        assert skill.revalidate is False
        assert "validations_flagged" not in latest_audit("framework_loaded").detail
    assert holders(app, team["team"]) == 5


def test_the_supervisor_sees_reworded_skills_first_and_flagged(app, client, team, framework_bytes):
    with app.app_context():
        load(reworded_file(framework_bytes, revalidate=True))
        ann = db.session.get(assessments.User, team["people"][0])
        assessment = assessments.start_assessment(ann)
        assert assessment.framework_version.number == 2
        for element in assessments.elements_of(assessment.framework_version):
            assessments.save_element(
                assessment, ann, element, {s.id: (2, "") for s in element.skills}, None
            )
        reflect_on_values(assessment, ann)
        commit()
        assessment_id = assessment.id

    # the keyworker's own self-assessment page flags it
    sign_in(client, "ann.one@example.nhs.uk", PASSWORD)
    page = html.unescape(client.get(f"/assessments/{assessment_id}/elements/1a").data.decode())
    flagged = re.search(r'id="skill-1a.s2">(.*?)</div>', page, re.S)
    assert flagged and "Validated against earlier wording" in flagged.group(1)
    assert page.count("Validated against earlier wording") == 1
    with app.app_context():
        ann = db.session.get(assessments.User, team["people"][0])
        assessments.submit(db.session.get(assessments.Assessment, assessment_id), ann, None)
        commit()
    client = app.test_client()  # the supervisor's

    sign_in(client, "sue.super@example.nhs.uk", PASSWORD)
    page = html.unescape(client.get(f"/supervision/{assessment_id}").data.decode())
    assert page.index("Reworded skills: check these first") < page.index("Steps of the validation")
    listed = re.findall(r'id="reworded-([^"]+)"', page)
    assert listed == [SKILL]
    assert NEW_TEXT in page and "no longer counts" in page

    page = html.unescape(
        client.get(f"/supervision/{assessment_id}/elements/1a").get_data(as_text=True)
    )
    row = re.search(r'id="skill-1a.s2">(.*?)id="skill-1a.s3"', page, re.S).group(1)
    assert "Validated against earlier wording" in row
    assert page.count("Validated against earlier wording") == 1

    # validated against the new wording: the flag goes and the skill counts again
    with app.app_context():
        assessment = db.session.get(assessments.Assessment, assessment_id)
        sue = db.session.get(assessments.User, team["sue"])
        assessments.validate(assessment, sue, {}, None)
        commit()
    page = client.get(f"/people/{team['people'][0]}/profile").get_data(as_text=True)
    assert "Ann One" in page and "Validated against earlier wording" not in page
    assert holders(app, team["team"]) == 1


def test_a_sign_off_of_the_earlier_wording_after_revalidate_does_not_count(
    app, client, team, framework_bytes
):
    with app.app_context():
        ann = db.session.get(assessments.User, team["people"][0])
        sue = db.session.get(assessments.User, team["sue"])
        assessment = assessments.start_assessment(ann)  # version 1
        for element in assessments.elements_of(assessment.framework_version):
            assessments.save_element(
                assessment, ann, element, {s.id: (3, "") for s in element.skills}, None
            )
        reflect_on_values(assessment, ann)
        assessments.submit(assessment, ann, None)
        commit()
        load(reworded_file(framework_bytes, revalidate=True))
        assessment_id = assessment.id

    # the supervisor is told before signing off
    sign_in(client, "sue.super@example.nhs.uk", PASSWORD)
    page = html.unescape(client.get(f"/supervision/{assessment_id}").get_data(as_text=True))
    item = re.search(r'id="reworded-1a.s2">(.*?)</li>', page, re.S).group(1)
    assert "Earlier wording" in item and "Its validation will not count" in item
    assert re.findall(r'id="reworded-([^"]+)"', page) == [SKILL]

    with app.app_context():
        ann = db.session.get(assessments.User, team["people"][0])
        sue = db.session.get(assessments.User, team["sue"])
        assessment = db.session.get(assessments.Assessment, assessment_id)
        assessments.validate(assessment, sue, {}, None)
        commit()
        rows = dict(
            db.session.execute(
                select(CurrentRating.skill_key, CurrentRating.expires_at).where(
                    CurrentRating.person_id == ann.id
                )
            ).all()
        )
        now = utcnow()
        assert rows[SKILL] <= now
        assert rows["1a.s1"] > now + timedelta(days=300)
    assert holders(app, team["team"]) == 0


@pytest.mark.parametrize("revalidate", [True, False])
def test_the_version_diff_says_how_many_validations_each_change_affects(
    app, client, team, framework_bytes, revalidate
):
    with app.app_context():
        load(reworded_file(framework_bytes, revalidate=revalidate))
        forget_cached_settings()
    sign_in(client, "sue.super@example.nhs.uk", PASSWORD)
    response = client.get("/framework/versions/compare?from=1&to=2")
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    row = re.search(r'data-key="1a.s2">(.*?)</tr>', page, re.S).group(1)
    if revalidate:
        assert "Affects 5 current validations: re-validation required" in row
    else:
        assert "Affects 5 current validations: flagged, counted until their next review" in row
    # the metadata change affects no validation
    setting = re.search(r'data-key="metadata">(.*?)</tr>', page, re.S).group(1)
    assert "Affects" not in setting


def test_the_command_says_what_the_rewording_did(app, runner, team, framework_bytes, tmp_path):
    path = tmp_path / "v2.yaml"
    path.write_bytes(reworded_file(framework_bytes, revalidate=True))
    result = runner.invoke(args=["load-framework", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "Reworded skills 1a.s2: 5 validations of the earlier wording flagged; "
        "5 no longer count (revalidate)." in result.output
    )
    assert holders(app, team["team"]) == 0


OTHER = "1a.s3"


def test_a_load_reads_only_the_ratings_a_rewording_can_touch(app, team, framework_bytes):
    """A later version rewording another skill flags that skill's validations only; the
    ratings it reads (the skills it rewords, and those any version marks `revalidate`) give
    the same flags and stops as reading every current rating."""
    from competency_app.assessments.reworded import _reworded_keys, earlier_wording

    with app.app_context():
        load(reworded_file(framework_bytes, revalidate=True))
        second = current_version()
        data = yaml.safe_load(reworded_file(framework_bytes, revalidate=False))
        data["metadata"]["version_label"] = "Another rewording"
        for competency in data["competencies"]:
            for element in competency["elements"]:
                for skill in element["skills"]:
                    if skill["id"] == OTHER:
                        skill["text"] += " (reworded)"
        load(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode())
        third = current_version()
        event = latest_audit("framework_loaded")
        assert event.detail["reworded_skills"] == [OTHER]
        assert event.detail["validations_flagged"] == 5
        assert _reworded_keys(third, second) == {OTHER}
        read = earlier_wording(third, keys={OTHER, SKILL})
        everything = earlier_wording(third)
        assert {k for k in everything if k[1] in (OTHER, SKILL)} == set(read) == set(everything)
        assert {r.stopped_at for (_, key), r in read.items() if key == SKILL} != {None}
