import pytest

from core import bulk


@pytest.fixture(params=["postgresql", "sqlite"])
def vendor(request, monkeypatch) -> str:
    """Both write paths: PostgreSQL's arrays and the portable ORM one SQLite takes
    (`core.bulk.arrays`, the one switch), each run on the test database."""
    monkeypatch.setattr(bulk, "arrays", lambda: request.param == "postgresql")
    return request.param
