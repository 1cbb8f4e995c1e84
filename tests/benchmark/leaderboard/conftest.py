"""Leaderboard fixtures: two toy methods scored once per session on the bundled sample test set."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.benchmark.leaderboard import lb_helpers


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path_factory.getbasetemp() / "mace-dance-cache"))


@pytest.fixture(scope="session")
def scored(tmp_path_factory) -> dict[str, Path]:
    """On-beat and off-beat outputs for the sample set, with their motion (mace2d-official) results and the
    on-beat appearance (temporal flickering) results; n_boot 50."""
    from tools.sample_testset import write_method_outputs

    root = tmp_path_factory.mktemp("scored")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MACE_DANCE_CACHE", str(tmp_path_factory.getbasetemp() / "mace-dance-cache"))
        out: dict[str, Path] = {}
        for style in ("on-beat", "off-beat"):
            dirs = write_method_outputs(root / style, style)
            out[f"{style}/keypoints"] = dirs["keypoints"]
            out[f"{style}/videos"] = dirs["videos"]
            out[f"{style}/motion"] = lb_helpers.evaluate_motion(
                dirs["keypoints"], root / style / "motion.json"
            )
        out["on-beat/appearance"] = lb_helpers.evaluate_appearance(
            out["on-beat/videos"], root / "on-beat" / "appearance.json", gt=lb_helpers.sample_dir()
        )
    return out
