"""Password hashing cost: the full argon2id cost everywhere but the test configuration."""

from __future__ import annotations

from argon2 import extract_parameters

from competency_app import create_app
from competency_app.accounts import services
from competency_app.extensions import db, limiter

# OWASP's recommended minimum for argon2id (19 MiB, 2 passes, 1 lane), above ASVS's bar.
FULL_COST = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}


def _hash_in(config_name: str, tmp_path) -> str:
    saved = limiter._storage, limiter._limiter  # init_app replaces the session app's storage
    try:
        return _hash_in_app(config_name, tmp_path)
    finally:
        limiter._storage, limiter._limiter = saved


def _hash_in_app(config_name: str, tmp_path) -> str:
    other = create_app(
        config_name,
        {
            "SECRET_KEY": "x" * 32,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
            # production refuses per-process throttling; the app never reaches Redis here
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
            "JOBS_IN_PROCESS": True,  # production refuses in-process jobs unless told
        },
    )
    with other.app_context():
        assert other.config["PASSWORD_HASH_COST"] == FULL_COST
        hashed = services.hash_password("a long enough passphrase")
        # A hash made at the tests' cheap cost is re-hashed at the next sign-in.
        cheap = services._hasher(time_cost=1, memory_cost=8, parallelism=1)[0]
        assert services.password_hasher().check_needs_rehash(cheap.hash("pass phrase"))
        db.engine.dispose()
    return hashed


def test_production_and_demo_hash_at_full_cost(tmp_path):
    for config_name in ("production", "development"):
        parameters = extract_parameters(_hash_in(config_name, tmp_path))
        assert parameters.type.name == "ID"
        assert parameters.time_cost == FULL_COST["time_cost"]
        assert parameters.memory_cost == FULL_COST["memory_cost"]
        assert parameters.parallelism == FULL_COST["parallelism"]


def test_tests_hash_at_minimal_cost_and_still_verify(app):
    with app.app_context():
        hashed = services.hash_password("a long enough passphrase")
        parameters = extract_parameters(hashed)
        assert (parameters.time_cost, parameters.memory_cost) == (1, 8)
        assert services.password_hasher().verify(hashed, "a long enough passphrase")
