"""The two render paths against the whole-frame reference render, and how ``auto`` picks one.

Measured on Mesa llvmpipe (the sample dance, 8 frames): ``cpu-composite`` gives the reference's bytes, colour
and depth. ``gpu-scene`` differs at body edges only, where MSAA mixes body and floor inside a pixel (the
composite blends with the pixel's resolved floor colour, the scene with each sample's floor colour) and by the
float rounding of skinning in the shader: at 180x320, 0.5% of pixels differ, 0.002% by more than 2 levels,
at most 22; at 720x1280, 0.1%, 0.001% and 17. The tolerance below leaves a margin over that.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyrender")

from ma_data.core.errors import ConfigError  # noqa: E402
from ma_data.render import PRESETS, RenderConfig  # noqa: E402
from ma_data.render.gl import Box, GLInfo, body_box  # noqa: E402
from ma_data.render.paths import resolve_render_path  # noqa: E402
from ma_data.render.reference import reference_frames  # noqa: E402
from ma_data.render.renderer import ClipRenderer  # noqa: E402
from ma_data.render.shaders import LightCounts, fixed_lights_fragment_shader, skinned_vertex_shader  # noqa: E402
from ma_data.sample import DEMO_SEQUENCES, dance_motion  # noqa: E402


@pytest.fixture(scope="module")
def motion():
    poses, trans, _ = dance_motion(DEMO_SEQUENCES[0])
    return poses[:240:30], trans[:240:30]  # 8 frames over 8 s of dance


def _render(path: str, motion, preset: str = "demo", with_depth: bool = True, reference: bool = False):
    r = ClipRenderer(PRESETS[preset].with_(render_path=path))
    prep = r.prepare(*motion)
    frames = list(reference_frames(r, prep, with_depth) if reference else r.frames(prep, with_depth))
    if not with_depth:
        return np.stack(frames), None
    return np.stack([f for f, _ in frames]), np.stack([d for _, d in frames])


def _assert_same_picture(a: np.ndarray, b: np.ndarray) -> None:
    """The stated tolerance between the paths: >= 99% of pixels identical, >= 99.99% within 2 levels,
    none off by more than 48 (a body edge against a floor-tile edge, the worst case of MSAA mixing)."""
    d = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=-1)
    assert (d > 0).mean() <= 0.01, (d > 0).mean()
    assert (d > 2).mean() <= 1e-4, (d > 2).mean()
    assert d.max() <= 48, d.max()


def test_cpu_composite_gives_the_reference_bytes(motion):
    ref, ref_depth = _render("cpu-composite", motion, reference=True)
    got, depth = _render("cpu-composite", motion)
    assert got.shape == (8, 320, 180, 3) and got.std() > 5
    assert np.array_equal(got, ref)
    assert np.array_equal(depth, ref_depth)


def test_gpu_scene_gives_the_same_picture(motion):
    ref, ref_depth = _render("cpu-composite", motion)
    got, depth = _render("gpu-scene", motion)
    _assert_same_picture(got, ref)
    assert np.array_equal(depth > 0, ref_depth > 0)  # the body covers the same pixels
    assert np.abs(depth - ref_depth).max() < 1e-3  # metres


@pytest.mark.slow
def test_paths_agree_at_720p(motion):
    short = (motion[0][:2], motion[1][:2])
    ref, _ = _render("cpu-composite", short, "default", with_depth=False, reference=True)
    cpu, _ = _render("cpu-composite", short, "default", with_depth=False)
    gpu, _ = _render("gpu-scene", short, "default", with_depth=False)
    assert np.array_equal(cpu, ref)
    _assert_same_picture(gpu, cpu)


@pytest.mark.parametrize("path", ["cpu-composite", "gpu-scene"])
def test_interleaved_clips_render_as_if_alone(motion, path):
    """Two clips of one size share the GL context and framebuffers; drawing them in turns changes nothing."""
    poses, trans = motion
    r = ClipRenderer(PRESETS["demo"].with_(render_path=path))
    a, b = r.prepare(poses[:4], trans[:4]), r.prepare(poses[4:], trans[4:] + [0.5, 0.0, 0.0])
    alone = [np.stack(list(r.frames(p))) for p in (a, b)]
    turns = list(zip(r.frames(a), r.frames(b), strict=True))
    assert np.array_equal(np.stack([x for x, _ in turns]), alone[0])
    assert np.array_equal(np.stack([y for _, y in turns]), alone[1])


def test_auto_picks_the_path_from_the_gl_renderer():
    mesa = GLInfo("Mesa/X.org", "llvmpipe (LLVM 15.0.6, 256 bits)", "4.5 (Core Profile) Mesa 22.3.6")
    nvidia = GLInfo("NVIDIA Corporation", "NVIDIA H200/PCIe/SSE2", "4.6.0 NVIDIA 570.86.15")
    radeon = GLInfo(
        "AMD", "AMD Radeon RX 7900 XTX (radeonsi, navi31, LLVM 15.0.6)", "4.6 (Core Profile) Mesa 23.1"
    )
    assert mesa.software and not nvidia.software and not radeon.software  # Mesa drives GPUs too
    assert resolve_render_path("auto", mesa) == "cpu-composite"
    assert resolve_render_path("auto", nvidia) == resolve_render_path("auto", radeon) == "gpu-scene"
    assert resolve_render_path("gpu-scene", mesa) == "gpu-scene"  # an explicit choice is kept
    with pytest.raises(ConfigError, match="render_path"):
        resolve_render_path("opengl", mesa)
    with pytest.raises(ConfigError, match="render_path"):
        RenderConfig(render_path="fast")
    r = ClipRenderer(PRESETS["demo"])  # this machine's EGL device decides
    assert r.render_path() in ("cpu-composite", "gpu-scene")


def test_body_box_covers_the_points_plus_margin_and_stays_in_frame():
    xy = np.array([[10.2, 20.7], [30.9, 5.1]])
    assert body_box(xy, 100, 50, margin=2) == Box(8, 3, 34, 24)
    assert body_box(np.array([[-5.0, -5.0], [200.0, 80.0]]), 100, 50) == Box(0, 0, 100, 50)
    assert body_box(np.array([[150.0, 10.0], [160.0, 20.0]]), 100, 50).empty  # entirely off screen


def test_shader_patches_refuse_a_source_they_were_not_written_for():
    with pytest.raises(ValueError, match="mesh.vert"):
        skinned_vertex_shader("void main()\n{\n    gl_Position = vec4(0.0);\n}\n")
    with pytest.raises(ValueError, match="n_directional_lights"):
        fixed_lights_fragment_shader("void main() {}", LightCounts(2, 0, 0))
    src = "for (int i = 0; i < n_directional_lights; i++) {}\nfor (int i = 0; i < n_point_lights; i++) {}\n"
    src += "for (int i = 0; i < n_spot_lights; i++) {}\n"
    out = fixed_lights_fragment_shader(src, LightCounts(2, 0, 1))
    assert "i < 2;" in out and "i < 0;" in out and "i < 1;" in out and "n_spot_lights" not in out


def test_render_path_is_part_of_the_build_config():
    from click.testing import CliRunner

    from ma_data.build.pipeline import resolve_render_config
    from ma_data.cli import main

    assert resolve_render_config({"render": {"preset": "demo"}})["render_path"] == "auto"
    assert (
        resolve_render_config({"render": {"preset": "demo", "render_path": "gpu-scene"}})["render_path"]
        == "gpu-scene"
    )
    with pytest.raises(ConfigError, match="render_path"):
        resolve_render_config({"render": {"preset": "demo", "render_path": "vulkan"}})
    out = CliRunner().invoke(main, ["build", "--help"]).output
    assert "--render-path [auto|cpu-composite|gpu-scene]" in out
