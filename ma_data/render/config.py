"""Render settings and named presets.

Defaults follow the Appearance Expert's input: portrait 720 x 1280 (W x H), 30 fps (FineDance's motion rate,
so no resampling). ``demo`` is a small preset (180 x 320, same aspect) that renders quickly on a CPU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from ma_data.core.errors import ConfigError, check_choice

#: ``RenderConfig.render_path`` values (ma_data.render.paths implements them).
RENDER_PATHS = ("auto", "cpu-composite", "gpu-scene")


@dataclass(frozen=True)
class RenderConfig:
    """Everything that changes the pixels of a render. Same config + same motion -> same bytes.

    Attributes:
        width, height: output size in pixels (even numbers, for yuv420p).
        fps: output frame rate; the motion is rendered frame for frame (FineDance is 30 fps).
        yfov_deg: vertical field of view of the perspective front camera.
        margin_m: space kept around the clip's joint bounding box when framing the camera (metres).
        min_half_height_m: the camera frames at least this half-height, so a crouching dancer is not zoomed.
        body: ``"mannequin"`` (built in) or ``"smpl"`` (needs ``smpl_model_dir``).
        smpl_model_dir: folder holding smplx model files (``smpl/SMPL_NEUTRAL.pkl`` or ``.npz``).
        body_color / floor colours / background: RGB in [0, 1].
        crf: x264 quality of the rendered video.
        render_path: ``"auto"`` (``cpu-composite`` when EGL reports a software rasteriser such as Mesa's
            llvmpipe, ``gpu-scene`` on a hardware GPU), ``"cpu-composite"`` or ``"gpu-scene"`` (see
            :mod:`ma_data.render.paths`). The two paths agree to within a few levels at body edges; a build
            records the path it used per clip.
    """

    width: int = 720
    height: int = 1280
    fps: float = 30.0
    yfov_deg: float = 40.0
    margin_m: float = 0.25
    min_half_height_m: float = 1.05
    body: str = "mannequin"
    smpl_model_dir: str | None = None
    body_color: tuple[float, float, float] = (0.80, 0.62, 0.48)
    floor_color_a: tuple[float, float, float] = (0.55, 0.55, 0.58)
    floor_color_b: tuple[float, float, float] = (0.42, 0.42, 0.45)
    floor_tile_m: float = 0.5
    background: tuple[float, float, float] = (0.86, 0.89, 0.93)
    crf: int = 18
    render_path: str = "auto"

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2 or self.width <= 0 or self.height <= 0:
            raise ConfigError(f"render size must be positive and even, got {self.width}x{self.height}")
        check_choice("body", self.body, ("mannequin", "smpl"))
        check_choice("render_path", self.render_path, RENDER_PATHS)
        if self.body == "smpl" and not self.smpl_model_dir:
            raise ConfigError("body='smpl' needs smpl_model_dir (the folder with the SMPL model files)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_(self, **kw: Any) -> RenderConfig:
        return replace(self, **kw)


PRESETS: dict[str, RenderConfig] = {
    "default": RenderConfig(),
    "demo": RenderConfig(width=180, height=320, crf=20),
}
