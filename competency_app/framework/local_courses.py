"""Local courses: an organisation's own courses in the catalogue.

An organisation's HR or administrator adds a course it runs (a title, what it covers, a link
if it has one, how long it takes, the framework elements or skills it develops, and whether
it is required and how often it is repeated). Its own people see it in the catalogue; when
shared, every organisation of its collaborative does too; no other organisation ever does.
A keyworker records completing one as they do a framework module (its key is `local.<id>`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, false, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from competency_app.accounts import scope
from competency_app.accounts.audit import AuditAction
from competency_app.accounts.models import Organisation, User
from competency_app.accounts.services import record
from competency_app.clock import utcnow
from competency_app.common.text import has_control_characters
from competency_app.database import UTCDateTime
from competency_app.extensions import Model, db
from competency_app.framework.models import FrameworkVersion
from competency_app.framework.schema import LOCAL_PROVIDER

LOCAL_COURSE_PREFIX = "local."


class LocalCourse(Model):
    """A course an organisation runs itself, added to the catalogue by its HR or
    administrator. It reads as a catalogue module does (`key`, `title`, `develops`, ...),
    so the catalogue, development plans and completions treat it as one; its key is
    `local.<id>`, never a framework module's (`module.…`)."""

    __tablename__ = "local_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    develops: Mapped[list] = mapped_column(JSON)  # element / skill keys of the framework
    element_keys: Mapped[list] = mapped_column(JSON)  # the elements those keys belong to
    required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    refresh_months: Mapped[int | None] = mapped_column(Integer)
    # seen by every organisation of the collaborative, not only its own
    shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))

    organisation: Mapped[Organisation] = relationship()

    source = None  # a framework module's "where this entry comes from"
    is_local = True
    provider = LOCAL_PROVIDER

    @property
    def key(self) -> str:
        return f"{LOCAL_COURSE_PREFIX}{self.id}"

    @property
    def position(self) -> int:
        return 100_000 + self.id  # after the framework's modules

    @property
    def provider_label(self) -> str:
        return f"Local course run by {self.organisation.name}"

    @property
    def required_by(self) -> str:
        """Whose requirement it is (a framework module's is everyone's)."""
        return self.organisation.name


MAX_TITLE = 300
MAX_DESCRIPTION = 2000
MAX_URL = 500
MAX_MINUTES = 10_000
MAX_REFRESH_MONTHS = 120


class LocalCourseError(ValueError):
    """A refused course; `field` names the form field it is about."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def visible_courses(organisation_id: int | None) -> list[LocalCourse]:
    """The local courses the people of organisation `organisation_id` see: its own, and
    those other organisations of its collaborative share; by title."""
    if organisation_id is None:
        return []
    collaborative_id = scope.collaborative_id_of(organisation_id)
    sharing = select(Organisation.id).where(Organisation.collaborative_id == collaborative_id)
    return list(
        db.session.scalars(
            select(LocalCourse)
            .where(
                or_(
                    LocalCourse.organisation_id == organisation_id,
                    LocalCourse.shared & LocalCourse.organisation_id.in_(sharing),
                )
            )
            .order_by(LocalCourse.title, LocalCourse.id)
        )
    )


def catalogue_for(person: User, version: FrameworkVersion) -> list:
    """The catalogue as `person` sees it: the framework's modules, then the local courses of
    their employer (and those shared in its collaborative)."""
    return [*version.modules, *visible_courses(person.organisation_id)]


@dataclass(frozen=True)
class CourseInput:
    """What the form posted, stripped (the service decides whether it is allowed)."""

    title: str
    description: str
    url: str
    duration: str
    develops: Sequence[str]
    required: bool
    refresh_months: str
    shared: bool


def _whole_number(text: str, field: str, what: str, largest: int) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= largest:
        raise LocalCourseError(f"Enter {what} as a whole number from 1 to {largest:,}", field)
    return int(text)


def _check_text(value: str, field: str, label: str, largest: int) -> None:
    if not value:
        raise LocalCourseError(f"Enter the course's {label}", field)
    if len(value) > largest:
        raise LocalCourseError(
            f"The {label} must be {largest:,} characters or fewer (it has {len(value):,})", field
        )


def add_local_course(
    organisation: Organisation, given: CourseInput, actor: User, version: FrameworkVersion
) -> LocalCourse:
    """Add a local course to `organisation`'s catalogue (flushes, never commits); audited
    in the organisation's log. Refused, naming the field: a missing or too long title or
    description, a link that is not a web address, a duration or refresh period that is not
    a whole number in range, a refresh period for a course that is not required, or no
    element or skill of `version` named."""
    _check_text(given.title, "title", "title", MAX_TITLE)
    if has_control_characters(given.title):
        raise LocalCourseError("Keep the title on one line", "title")
    _check_text(given.description, "description", "description", MAX_DESCRIPTION)
    url = given.url or None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_URL:
            raise LocalCourseError(
                "Enter the link as a web address starting https:// (up to 500 characters), "
                "or leave it blank",
                "url",
            )
    minutes = _whole_number(given.duration, "duration", "the duration in minutes", MAX_MINUTES)
    refresh = _whole_number(
        given.refresh_months, "refresh_months", "the months between repeats", MAX_REFRESH_MONTHS
    )
    if refresh is not None and not given.required:
        raise LocalCourseError(
            "Only a required course is repeated: tick “Required” or leave the months blank",
            "refresh_months",
        )
    elements = {e.key: e for c in version.competencies for e in c.elements}
    element_of_skill = {s.key: e.key for e in elements.values() for s in e.skills}
    develops = [key for key in dict.fromkeys(given.develops) if key]
    unknown = [k for k in develops if k not in elements and k not in element_of_skill]
    if unknown or not develops:
        raise LocalCourseError(
            "Choose at least one element or skill of the framework the course develops",
            "develops",
        )
    element_keys = sorted(
        {k if k in elements else element_of_skill[k] for k in develops},
        key=list(elements).index,
    )
    course = LocalCourse(
        organisation_id=organisation.id,
        title=given.title,
        description=given.description,
        url=url,
        duration_minutes=minutes,
        develops=develops,
        element_keys=element_keys,
        required=given.required,
        refresh_months=refresh,
        shared=given.shared,
        created_at=utcnow(),
        created_by_id=actor.id,
    )
    db.session.add(course)
    db.session.flush()
    record(
        AuditAction.LOCAL_COURSE_ADDED,
        actor,
        target=course.key,
        organisation_id=organisation.id,
        title=course.title,
        shared=course.shared,
        required=course.required,
        develops=develops,
    )
    return course


def own_courses(organisation_id: int) -> list[LocalCourse]:
    return [c for c in visible_courses(organisation_id) if c.organisation_id == organisation_id]
