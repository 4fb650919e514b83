"""Where the exports and the Rust predictor's answers are: made by
``scripts/python_test.sh`` (``ESTIMATOR_RS_WORK``), or a test is skipped
with the reason."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "tensorflow"


@pytest.fixture(scope="session")
def work() -> Path:
    path = os.environ.get("ESTIMATOR_RS_WORK")
    if not path:
        pytest.skip("run through scripts/python_test.sh, which exports the models (ESTIMATOR_RS_WORK)")
    return Path(path)
