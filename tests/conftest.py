"""Shared test fixtures."""

import pytest


@pytest.fixture
def blank_knee_spec() -> dict:
    """A minimal valid figure specification (a frontal knee with no lesion), fresh for each test."""
    return {
        "id": "figX",
        "title": "t",
        "site": "site_knee",
        "projection": "frontal",
        "seed": 1,
        "alt": "A synthetic frontal radiograph of a knee with nothing in particular to see in it.",
        "caption": "Synthetic illustration. Look at the knee.",
        "patterns": [],
    }
