"""Typed protocols: every recorded parameter is read, behaviour never looks parameters up by string, the
registry is explicit, and a new protocol or appearance dimension is one definition plus one registration."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.appearance.base import VideoDimension, VideoValue
from benchmark.appearance.dimensions import DIMENSIONS, DimensionSpec, register_dimension
from benchmark.appearance.protocol import VBENCH_APPEARANCE, AppearanceProtocol
from benchmark.cli import main
from benchmark.motion.protocols2d import MACE2D_PROTOCOLS, MACE2D_STRICT, Mace2dProtocol
from benchmark.motion.protocols3d import METRIC_KEYS, PROTOCOLS_3D, Motion3dProtocol
from benchmark.protocols import (
    PROTOCOLS,
    MetricSpec,
    get_protocol,
    list_protocols,
    metric_specs,
    register_protocol,
    unregister_protocol,
)
from ma_data.core.errors import MaceError
from tools.synthetic_keypoints import make_demo_set

ROOT = Path(__file__).resolve().parents[2] / "benchmark"
FAMILIES = (Mace2dProtocol, Motion3dProtocol, AppearanceProtocol)


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"))


def _attributes_read() -> set[str]:
    return {
        node.attr
        for path in ROOT.rglob("*.py")
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)
    }


def test_every_recorded_parameter_is_read_by_the_code():
    """A parameter in the record that the implementation never reads would be a lie; documentation fields
    (``reference``, ``fixes``, VBench's fixed recipes) say so in their field metadata."""
    read = _attributes_read()
    unread = [
        f"{cls.__name__}.{f.name}"
        for cls in FAMILIES
        for f in cls.parameter_fields()
        if not f.metadata.get("doc") and f.name not in read and f.name not in ("ssim", "psnr", "fvd")
    ]
    assert not unread, unread


def test_appearance_numbers_are_the_constants_the_implementation_reads():
    """SSIM/PSNR/FVD numbers are module constants of their implementation; the record is built from them."""
    from benchmark.appearance import full_reference, fvd

    p = VBENCH_APPEARANCE
    assert (p.ssim.window, p.ssim.sigma, p.ssim.k1, p.ssim.k2, p.ssim.data_range) == (
        full_reference.SSIM_WINDOW,
        full_reference.SSIM_SIGMA,
        full_reference.SSIM_K1,
        full_reference.SSIM_K2,
        full_reference.DATA_RANGE,
    )
    assert (p.psnr.data_range, p.psnr.max_db) == (full_reference.DATA_RANGE, full_reference.PSNR_MAX_DB)
    assert p.fvd.clip_len == fvd.CLIP_LEN


def test_behaviour_never_looks_parameters_up_by_name():
    """No ``protocol.params[...]`` / ``protocol.params.get(...)`` in the implementation: code reads typed fields.
    (The leaderboard compares the *records* of submitted results files, key by key; it scores nothing.)"""
    bad = []
    for path in ROOT.rglob("*.py"):
        if "leaderboard" in path.parts:
            continue
        for node in ast.walk(_tree(path)):
            target = node.value if isinstance(node, ast.Subscript) else None
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
            ):
                target = node.func.value
            if isinstance(target, ast.Attribute) and target.attr == "params":
                bad.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}")
    assert not bad, bad


def test_protocols_round_trip_through_their_record():
    """A results file's record rebuilds the protocol: every parameter, typed (options that are not parameters
    of the measurement, such as how keypoints are extracted from videos, take the family default)."""
    from benchmark.appearance.protocol import appearance_protocol

    for p in [*list_protocols(), appearance_protocol("stylegan-v")]:
        record = json.loads(json.dumps(p.to_dict(), allow_nan=False))
        rebuilt = type(p).from_dict(record)
        assert rebuilt.to_dict() == record, p.name
        if isinstance(p, Mace2dProtocol):  # not a parameter of the measurement: the family default
            assert rebuilt.video_keypoints == MACE2D_PROTOCOLS["mace2d-official"].video_keypoints
            rebuilt = dataclasses.replace(rebuilt, video_keypoints=p.video_keypoints)
        assert rebuilt == p, p.name
        assert record["kind"] == p.kind and record["params"] == p.params


def test_unknown_parameters_and_choices_are_one_line_errors():
    record = MACE2D_STRICT.to_dict()
    with pytest.raises(MaceError, match="unknown parameter.*'bogus'"):
        Mace2dProtocol.from_dict({**record, "params": {**record["params"], "bogus": 1}})
    with pytest.raises(MaceError, match="window.*'last' is not one of 'first', 'common'"):
        dataclasses.replace(MACE2D_STRICT, window="last")
    with pytest.raises(MaceError, match="first window needs n_frames"):
        dataclasses.replace(MACE2D_STRICT, name="x", window="first")


def test_metrics_are_declared_by_the_protocols():
    specs = metric_specs()
    assert specs["fid_k"] == MetricSpec("fid_k", "FID_k", False, specs["fid_k"].description)
    assert specs["bas_gt"].higher_is_better is None and specs["psnr"].label == "PSNR"
    assert tuple(m.key for m in get_protocol("bailando3d").metrics) == METRIC_KEYS
    assert [m.key for m in get_protocol("mace2d-official").metrics] == list(METRIC_KEYS[:8])
    assert {m.key for m in VBENCH_APPEARANCE.metrics} == set(DIMENSIONS)


def test_registry_is_one_explicit_list():
    assert set(PROTOCOLS) == {*MACE2D_PROTOCOLS.values(), *PROTOCOLS_3D.values(), VBENCH_APPEARANCE}
    assert {p.name for p in list_protocols()} == {p.name for p in PROTOCOLS}
    source = (ROOT / "protocols.py").read_text()
    assert "importlib" not in source and "ModuleNotFoundError" not in source
    with pytest.raises(MaceError, match="bailando3d is a motion3d protocol.*evaluate-3d"):
        get_protocol("bailando3d", kind="motion2d")


# ------------------------------------------------------------------------------ a new protocol: one definition
# (a typed object of an existing family) plus one registration line

TOY_2D = dataclasses.replace(
    MACE2D_STRICT, name="toy2d-short", version="0.1", description="strict, 3 s windows", max_seconds=3.0,
    min_seconds=2.0,
)  # fmt: skip


@pytest.fixture
def toy_protocol():
    register_protocol(TOY_2D)
    yield TOY_2D
    unregister_protocol(TOY_2D.name)


def test_a_new_protocol_is_one_definition_plus_one_registration(toy_protocol, tmp_path, monkeypatch):
    monkeypatch.setenv("MACE_DANCE_CACHE", str(tmp_path / "cache"))
    listing = CliRunner().invoke(main, ["protocols", "--kind", "motion2d"])
    assert "toy2d-short  v0.1  [motion2d]" in listing.output and "max_seconds = 3.0" in listing.output
    d = make_demo_set(tmp_path / "demo", n_samples=4, seed=2)
    outs = {}
    for name in ("toy2d-short", "mace2d-strict"):
        outs[name] = tmp_path / f"{name}.json"
        run = CliRunner().invoke(
            main,
            ["evaluate", "--protocol", name, "--gt-keypoints", str(d["gt_keypoints"]), "--pred-keypoints",
             str(d["pred_keypoints"]), "--audio", str(d["audio"]), "--n-boot", "0", "--out", str(outs[name])],
        )  # fmt: skip
        assert run.exit_code == 0, run.output
    toy, strict = (json.loads(outs[n].read_text()) for n in ("toy2d-short", "mace2d-strict"))
    assert toy["protocol"] == TOY_2D.to_dict() and toy["protocol"]["params"]["max_seconds"] == 3.0
    assert toy["metrics"]["fid_k"]["label"] == "FID_k" and toy["n_samples"] == strict["n_samples"] == 4
    assert toy["metrics"]["bas"]["value"] != strict["metrics"]["bas"]["value"]  # a 3 s window, not 5 s
    unregister_protocol(TOY_2D.name)
    gone = CliRunner().invoke(main, ["evaluate", "--protocol", "toy2d-short", "--pred-keypoints", "x"])
    assert gone.exit_code == 2 and "unknown protocol 'toy2d-short'" in gone.output


# ------------------------------------------------------------------------------ a new appearance dimension: one
# VideoDimension plus one registration line


class ToyBrightness(VideoDimension):
    """Mean pixel value / 255 of a video (a toy dimension)."""

    keys = ("toy_brightness",)

    def __init__(self, keys=keys, device: str = "cpu", batch_size: int = 16):
        del keys, device, batch_size

    def start(self, source: str) -> None:
        self._sum, self._n = 0.0, 0

    def update(self, frames_bgr: np.ndarray, gt_bgr: np.ndarray | None = None) -> None:
        self._sum += float(frames_bgr.astype(np.float64).sum())
        self._n += frames_bgr.size

    def finish(self) -> dict[str, VideoValue]:
        return {"toy_brightness": VideoValue.mean_of_videos(self._sum / self._n / 255.0)}


TOY_DIMENSION = DimensionSpec(MetricSpec("toy_brightness", "Bright", True, "mean brightness"), ToyBrightness)


@pytest.fixture
def toy_dimension():
    register_dimension(TOY_DIMENSION)
    yield TOY_DIMENSION
    DIMENSIONS.pop(TOY_DIMENSION.key)


def test_a_new_appearance_dimension_is_one_class_plus_one_registration(
    toy_dimension, tmp_path, metric_tester
):
    from ma_data.core.io.video import write_video

    pred = tmp_path / "pred"
    rng = np.random.default_rng(0)
    frames = {s: [rng.integers(0, 255, (32, 32, 3), np.uint8) for _ in range(5)] for s in ("a", "b")}
    for stem, f in frames.items():
        write_video(pred / f"{stem}.mp4", f, 8)
    from benchmark.appearance.decode import read_frames_bgr

    reference = {s: {"toy_brightness": read_frames_bgr(pred / f"{s}.mp4").mean() / 255.0} for s in frames}
    metric_tester.dimension(
        ToyBrightness,
        {s: pred / f"{s}.mp4" for s in frames},
        reference=reference,
        rtol=1e-12,
        invariance_rtol=1e-12,
    )
    out = tmp_path / "r.json"
    run = CliRunner().invoke(
        main,
        ["evaluate", "--dims", "appearance", "--appearance-dims", "toy_brightness", "--pred", str(pred),
         "--n-boot", "0", "--out", str(out)],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    doc = json.loads(out.read_text())
    entry = doc["metrics"]["toy_brightness"]
    assert entry["label"] == "Bright" and entry["higher_is_better"] is True
    assert entry["value"] == pytest.approx(
        np.mean([reference[s]["toy_brightness"] for s in frames]), rel=1e-12
    )
    assert "| Bright |" in run.output
