"""What the installed jsonschema-rs can do, for tests that compare validation engines."""

from __future__ import annotations

import jsonschema_rs
import pytest


def holds_u64() -> bool:
    """Old jsonschema-rs releases (the last for Python 3.9 among them) cannot hold the u64
    bounds our schemas state; the tests that need them run on newer Pythons only."""
    try:
        jsonschema_rs.validator_for({"maximum": 2**64 - 1})
    except (ValueError, OverflowError):
        return False
    return True


needs_u64 = pytest.mark.skipif(
    not holds_u64(), reason="this jsonschema-rs release (Python 3.9) cannot hold u64 bounds"
)
