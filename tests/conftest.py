import pytest

from benefits.engine import default_engine


@pytest.fixture(scope="session")
def engine():
    """One engine per test session: durable_rules rulesets are never freed
    cheaply and the C engine is process-global."""
    return default_engine()
