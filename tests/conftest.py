import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: ../shared/data next to the checkout (the project's real-data folder).
SHARED = Path(os.environ.get("LOBKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
BUNDLED = ROOT / "python" / "lobkit" / "data" / "lobster"
TESTDATA = ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED / "lobster").is_dir():
        pytest.skip(f"real-data folder {SHARED} not present")
    return SHARED
