import pytest

from bettercare import run


@pytest.fixture(scope="session")
def national_run():
    """One full national run, shared by tests that only read it."""
    return run("england-2014", seed=11)
