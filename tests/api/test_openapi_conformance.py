"""Every answer of the API validates against its own OpenAPI document.

schemathesis reads the document the app serves and, for every operation in it, generates
requests with valid arguments and with invalid ones (hypothesis strategies), sends them to
the app and checks each response: the status is documented, the JSON matches its schema,
the content type is right, an invalid argument gets a 4xx, a request without the token a
401, and nothing is a server error. Half the generated cases name a real team, so coverage,
members and gaps are exercised with data, not only 404s.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.api.conftest import bearer

TEAM_SLUGS = st.sampled_from(["north", "south"])
# Fixed (derandomized) examples per operation and mode; raise them locally to search wider.
EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 12}


def _schema(app, headers):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=headers)

    @schema.hook
    def before_generate_path_parameters(context, strategy):
        return st.one_of(strategy, st.fixed_dictionaries({"slug": TEAM_SLUGS}))

    @schema.hook
    def filter_query(context, query):
        # an argument whose value is an empty list or null is not sent at all (the URL has
        # no trace of it), so a "surplus argument" case built that way cannot be refused
        return not query or all(value not in (None, [], {}) for value in query.values())

    return schema


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_every_answer_matches_the_document(app, api_world, role):
    """Admin: every team answers. Manager: the other team is a 403, documented too."""
    headers = bearer(api_world["tokens"][role])
    schema = _schema(app, headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    paths = {operation.path for operation in operations}
    assert "/api/v1/teams/{slug}/training" in paths
    sent = 0
    for operation in operations:
        for mode, examples in EXAMPLES.items():

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,  # the same cases on every run: CI is never flaky
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            )
            def check(case):
                nonlocal sent
                case.call_and_validate(headers=headers)
                sent += 1

            check()
    assert sent >= len(operations) * 10
