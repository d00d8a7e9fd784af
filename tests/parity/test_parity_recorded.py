"""The checked-in torch recording: complete, and identical to what live torch gives now."""

from __future__ import annotations

import pytest
from _parity_harness import RECORDED, compare, load_recorded, run_case
from _parity_registry import ALL_CASES


def test_recording_covers_every_case():
    recorded = load_recorded()
    names = [c.name for c in ALL_CASES]
    missing = [n for n in names if n not in recorded]
    stale = [n for n in recorded if n not in set(names)]
    assert not missing and not stale, (
        f"{RECORDED.name} is out of date (missing {missing[:10]}, stale {stale[:10]}); run "
        "`python tests/parity/record.py`"
    )


def test_recording_matches_live_torch(torch_ref):
    if torch_ref is None:
        pytest.skip("no live torch to compare the recording with (recorded mode)")
    recorded = load_recorded()
    drift = {}
    for case in ALL_CASES:
        if case.name not in recorded:
            continue
        diffs = compare(run_case(case, torch_ref), recorded[case.name], case.rtol32)
        if diffs:
            drift[case.name] = diffs[:3]
    assert not drift, (
        "recorded torch results drifted from live torch; run "
        f"`python tests/parity/record.py`: {drift}"
    )
