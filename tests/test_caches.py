"""One clear_caches() empties every per-process cache (tests, and after a restore)."""

from __future__ import annotations

from markupsafe import Markup

from competency_app.common import charts
from competency_app.common.caches import clear_caches, registered_caches
from competency_app.coverage import figures, fragments
from competency_app.coverage.services import coverage_for_team
from competency_app.extensions import db
from competency_app.framework import services as framework
from competency_app.framework.services import current_version, version_structure
from competency_app.ui import views as ui_views
from tests.factories import commit, make_team


def test_clear_caches_empties_every_per_process_cache(app, framework_document):
    with app.app_context():
        framework.load_framework(framework_document, "framework.yaml", loaded_by="test")
        team = make_team("north")
        commit()
        version = version_structure(current_version())
        coverage_for_team(team, version)
        charts.cached_chart(("test", team.id), "svg", lambda fmt: b"<svg/>")
        fragments.FRAGMENTS.put(("test", team.id), Markup("<h2>Coverage matrix</h2>"))
        ui_views._HEADERS.put(("test",), Markup("<header></header>"))
        filled = {
            "framework structures": framework._STRUCTURES,
            "version shapes": figures._SHAPES,
            "coverage figures": figures.FIGURES.entries,
            "chart bytes": charts._CACHE,
            "coverage page fragments": fragments.FRAGMENTS.entries,
            "page headers": ui_views._HEADERS.entries,
        }
        assert all(filled.values())
        assert set(filled) <= set(registered_caches())
        clear_caches()
        assert not any(filled.values())
        db.session.remove()
