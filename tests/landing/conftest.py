"""Fixtures of the landing tests."""

from __future__ import annotations

import pytest

from tests.docking import factories as df


@pytest.fixture
def world(session, settings):  # type: ignore[no-untyped-def]
    """The docking world: an institution with a published achievement, an enterprise, a broker
    and an operator (tests/docking/factories.py)."""
    return df.docking_world(session, settings)
