"""Direct OpenGL work on pyrender's offscreen framebuffers: what the device is, and drawing/reading a box.

pyrender renders a whole scene and reads the whole frame back (colour and depth, with the depth converted
in numpy). A dance video changes only where the body is, so the render paths (:mod:`ma_data.render.paths`)
use pyrender to compile its shaders, upload meshes and set every uniform once per clip, and then drive
the frames themselves: a scissor box around the body limits clearing, rasterising, the MSAA resolve and the
readback to the pixels that can change.

This uses a few private parts of pyrender 0.1.45 (its last release): the renderer's MSAA and resolve
framebuffers, ``_forward_pass`` (run through ``Renderer.render`` with the final readback skipped) and a
primitive's vertex array and buffers. :func:`check_pyrender` names what is missing if that ever changes.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import cache

import numpy as np

import ma_data.render  # noqa: F401 - sets PYOPENGL_PLATFORM / np.infty before OpenGL is imported
from ma_data.core.errors import ConfigError

__all__ = [
    "SOFTWARE_RENDERER_MARKERS",
    "Box",
    "GLInfo",
    "GLTarget",
    "body_box",
    "check_pyrender",
    "gl_info",
    "offscreen_renderer",
]

#: Substrings of ``GL_RENDERER`` (lower case) that mean the rasteriser runs on the CPU (Mesa's llvmpipe and
#: softpipe, the classic swrast, and generic "software rasterizer" strings). Mesa also drives real GPUs
#: (radeonsi, iris, nouveau), so "Mesa" in the vendor or version string alone does not mean software.
SOFTWARE_RENDERER_MARKERS = ("llvmpipe", "softpipe", "swrast", "software")


@dataclass(frozen=True)
class GLInfo:
    """The strings an OpenGL context reports about its device."""

    vendor: str
    renderer: str
    version: str

    @property
    def software(self) -> bool:
        """True for a CPU rasteriser (see :data:`SOFTWARE_RENDERER_MARKERS`)."""
        name = self.renderer.lower()
        return any(m in name for m in SOFTWARE_RENDERER_MARKERS)

    def to_dict(self) -> dict:
        return {"vendor": self.vendor, "renderer": self.renderer, "version": self.version}


def _gl_string(name: int) -> str:
    from OpenGL import GL as gl

    raw = gl.glGetString(name)
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")


def gl_info(offscreen) -> GLInfo:
    """What the EGL context of a ``pyrender.OffscreenRenderer`` runs on."""
    from OpenGL import GL as gl

    offscreen._platform.make_current()
    return GLInfo(_gl_string(gl.GL_VENDOR), _gl_string(gl.GL_RENDERER), _gl_string(gl.GL_VERSION))


def check_pyrender(offscreen) -> None:
    """Fail with one clear line if pyrender's internals that the render paths drive have changed."""
    renderer = getattr(offscreen, "_renderer", None)
    missing = [
        name
        for name in (
            "_forward_pass",
            "_read_main_framebuffer",
            "_get_primitive_program",
            "_program_cache",
            "_compute_max_n_lights",
        )
        if not hasattr(renderer, name)
    ]
    if missing:
        import pyrender

        raise ConfigError(
            f"pyrender {getattr(pyrender, '__version__', '?')} lacks {', '.join(missing)}: the render paths "
            "were written against pyrender 0.1.45"
        )


@dataclass(frozen=True)
class Box:
    """A pixel rectangle ``[x0, x1) x [y0, y1)`` in image coordinates (x right, y down)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def empty(self) -> bool:
        return self.x1 <= self.x0 or self.y1 <= self.y0

    @property
    def shape(self) -> tuple[int, int]:
        return self.y1 - self.y0, self.x1 - self.x0

    def gl_rect(self, height: int) -> tuple[int, int, int, int]:
        """``(x, y, width, height)`` in OpenGL window coordinates (origin bottom left)."""
        return self.x0, height - self.y1, self.x1 - self.x0, self.y1 - self.y0

    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)


def body_box(xy: np.ndarray, width: int, height: int, margin: int = 2) -> Box:
    """The pixels a body whose projected points' convex hull is ``xy`` (N, 2) can touch, clipped to the frame.

    A pixel changes only if one of its MSAA samples (inside the pixel) is covered, so ``floor(min)`` to
    ``ceil(max)`` suffices; ``margin`` pixels more absorb float rounding between numpy and the GPU.
    """
    lo = np.floor(xy.min(axis=0)).astype(int) - margin
    hi = np.ceil(xy.max(axis=0)).astype(int) + margin + 1
    return Box(max(0, int(lo[0])), max(0, int(lo[1])), min(width, int(hi[0])), min(height, int(hi[1])))


@cache
def offscreen_renderer(width: int, height: int):
    """One EGL offscreen renderer per size, kept for the life of the process (creating a GL context is the
    slow part). Never evicted: deleting a pyrender offscreen renderer calls ``eglTerminate`` on the display
    that every other renderer of the process shares, which breaks them all (a third size in one process did
    that with a two-entry cache)."""
    try:
        import pyrender
    except ImportError as exc:
        raise ConfigError(
            f"rendering needs pyrender ({exc}): `make setup` installs it; by hand, pip install -e '.[render]' "
            "then pip install --no-deps pyrender==0.1.45 (pyproject.toml says why --no-deps)"
        ) from exc

    return pyrender.OffscreenRenderer(viewport_width=width, viewport_height=height)


def _skip_readback(scene, flags):
    return None


class GLTarget:
    """One ``pyrender.OffscreenRenderer``'s framebuffers, driven directly (see the module docstring)."""

    def __init__(self, offscreen):
        from ma_data.render.shaders import install_programs

        check_pyrender(offscreen)
        install_programs(offscreen)
        self.offscreen = offscreen
        self.renderer = offscreen._renderer
        self.width = int(offscreen.viewport_width)
        self.height = int(offscreen.viewport_height)
        self._backdrop_fb: int | None = None
        self._backdrop_rbs: list[int] = []
        self.info = gl_info(offscreen)
        self.owner = None  # the clip whose state the framebuffers and programs hold

    # -- whole-scene passes through pyrender ---------------------------------------------------------------
    def make_current(self) -> None:
        self.offscreen._platform.make_current()

    def pyrender_pass(self, scene, rgba: bool = True, program_of=None):
        """pyrender's own forward pass into its MSAA framebuffer (full frame), without its readback, with
        the scene's light counts compiled into the mesh programs (:mod:`ma_data.render.shaders`).

        Returns the program that drew ``program_of`` (a primitive of ``scene``), for per-frame draws.
        """
        import pyrender
        from OpenGL import GL as gl

        from ma_data.render.shaders import light_counts

        self.make_current()
        gl.glDisable(gl.GL_SCISSOR_TEST)
        r = self.renderer
        r.viewport_width, r.viewport_height = self.width, self.height
        flags = pyrender.RenderFlags.OFFSCREEN | (pyrender.RenderFlags.RGBA if rgba else 0)
        cache = r._program_cache
        cache.lights = light_counts(r, scene, flags)
        r._read_main_framebuffer = _skip_readback  # instance attribute: shadows the method for this call
        try:
            r.render(scene, flags)
            if program_of is None:
                return None
            return r._get_primitive_program(program_of, flags, pyrender.constants.ProgramFlags.USE_MATERIAL)
        finally:
            del r._read_main_framebuffer
            cache.lights = None

    # -- per-frame work inside a box ---------------------------------------------------------------------
    def begin(self, box: Box) -> None:
        """Draw into the MSAA framebuffer, clipped to ``box``."""
        from OpenGL import GL as gl

        self.make_current()
        gl.glBindFramebuffer(gl.GL_DRAW_FRAMEBUFFER, self.renderer._main_fb_ms)
        gl.glViewport(0, 0, self.width, self.height)
        gl.glEnable(gl.GL_SCISSOR_TEST)
        gl.glScissor(*box.gl_rect(self.height))

    def end(self) -> None:
        """Leave the GL state as pyrender expects it (its own passes neither set nor clear these)."""
        from OpenGL import GL as gl

        gl.glDisable(gl.GL_SCISSOR_TEST)
        gl.glPixelStorei(gl.GL_PACK_ALIGNMENT, 4)

    def clear(self, rgba: tuple[float, float, float, float]) -> None:
        from OpenGL import GL as gl

        gl.glClearColor(*rgba)
        gl.glClear(gl.GL_COLOR_BUFFER_BIT | gl.GL_DEPTH_BUFFER_BIT)

    def draw(self, program, primitive) -> None:
        """One draw of ``primitive`` with ``program``, in the state pyrender's pass sets for an opaque,
        single-sided, filled material (uniforms stay as the last pyrender pass or the caller left them)."""
        from OpenGL import GL as gl

        gl.glEnable(gl.GL_DEPTH_TEST)
        gl.glDepthMask(gl.GL_TRUE)
        gl.glDepthFunc(gl.GL_LESS)
        gl.glDepthRange(0.0, 1.0)
        gl.glEnable(gl.GL_MULTISAMPLE)
        gl.glEnable(gl.GL_BLEND)
        gl.glBlendFunc(gl.GL_ONE, gl.GL_ZERO)
        gl.glPolygonMode(gl.GL_FRONT_AND_BACK, gl.GL_FILL)
        gl.glEnable(gl.GL_CULL_FACE)
        gl.glCullFace(gl.GL_BACK)
        gl.glDisable(gl.GL_PROGRAM_POINT_SIZE)
        program._bind()
        primitive._bind()
        gl.glDrawElementsInstanced(
            gl.GL_TRIANGLES, int(primitive.indices.size), gl.GL_UNSIGNED_INT, ctypes.c_void_p(0), 1
        )
        primitive._unbind()
        program._unbind()

    def resolve(self, box: Box, depth: bool = False) -> None:
        """MSAA resolve of ``box`` into the single-sample framebuffer (depth: sample 0, as pyrender)."""
        from OpenGL import GL as gl

        x, y, w, h = box.gl_rect(self.height)
        gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, self.renderer._main_fb_ms)
        gl.glBindFramebuffer(gl.GL_DRAW_FRAMEBUFFER, self.renderer._main_fb)
        gl.glBlitFramebuffer(x, y, x + w, y + h, x, y, x + w, y + h, gl.GL_COLOR_BUFFER_BIT, gl.GL_LINEAR)
        if depth:
            gl.glBlitFramebuffer(
                x, y, x + w, y + h, x, y, x + w, y + h, gl.GL_DEPTH_BUFFER_BIT, gl.GL_NEAREST
            )

    def read(self, box: Box, channels: int) -> np.ndarray:
        """Resolved colour of ``box`` as (h, w, channels) uint8, top row first."""
        from OpenGL import GL as gl

        x, y, w, h = box.gl_rect(self.height)
        out = np.empty((h, w, channels), np.uint8)
        gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, self.renderer._main_fb)
        gl.glPixelStorei(gl.GL_PACK_ALIGNMENT, 1)
        fmt = gl.GL_RGBA if channels == 4 else gl.GL_RGB
        gl.glReadPixels(x, y, w, h, fmt, gl.GL_UNSIGNED_BYTE, out)
        return out[::-1]

    def read_depth(self, box: Box) -> np.ndarray:
        """Resolved depth-buffer values of ``box`` as (h, w) float32 in [0, 1], top row first."""
        from OpenGL import GL as gl

        x, y, w, h = box.gl_rect(self.height)
        out = np.empty((h, w), np.float32)
        gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, self.renderer._main_fb)
        gl.glReadPixels(x, y, w, h, gl.GL_DEPTH_COMPONENT, gl.GL_FLOAT, out)
        return out[::-1]

    # -- a saved MSAA colour + depth picture (the scene path's floor and sky) ----------------------------
    def save_backdrop(self) -> None:
        """Copy the MSAA framebuffer's colour and depth samples (as the last pass left them) aside."""
        from OpenGL import GL as gl

        self.make_current()
        if self._backdrop_fb is None:
            color, depth = (int(v) for v in gl.glGenRenderbuffers(2))
            for rb, fmt in ((color, gl.GL_RGBA), (depth, gl.GL_DEPTH_COMPONENT24)):
                gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, rb)
                gl.glRenderbufferStorageMultisample(gl.GL_RENDERBUFFER, 4, fmt, self.width, self.height)
            fb = int(gl.glGenFramebuffers(1))
            gl.glBindFramebuffer(gl.GL_DRAW_FRAMEBUFFER, fb)
            gl.glFramebufferRenderbuffer(
                gl.GL_DRAW_FRAMEBUFFER, gl.GL_COLOR_ATTACHMENT0, gl.GL_RENDERBUFFER, color
            )
            gl.glFramebufferRenderbuffer(
                gl.GL_DRAW_FRAMEBUFFER, gl.GL_DEPTH_ATTACHMENT, gl.GL_RENDERBUFFER, depth
            )
            self._backdrop_fb, self._backdrop_rbs = fb, [color, depth]
        gl.glDisable(gl.GL_SCISSOR_TEST)
        self._copy(self.renderer._main_fb_ms, self._backdrop_fb, Box(0, 0, self.width, self.height))

    def restore_backdrop(self, box: Box) -> None:
        """Put the saved samples back inside ``box`` (call after :meth:`begin`; the scissor applies)."""
        self._copy(self._backdrop_fb, self.renderer._main_fb_ms, box)

    def _copy(self, src: int, dst: int, box: Box) -> None:
        from OpenGL import GL as gl

        x, y, w, h = box.gl_rect(self.height)
        gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, src)
        gl.glBindFramebuffer(gl.GL_DRAW_FRAMEBUFFER, dst)
        gl.glBlitFramebuffer(
            x,
            y,
            x + w,
            y + h,
            x,
            y,
            x + w,
            y + h,
            gl.GL_COLOR_BUFFER_BIT | gl.GL_DEPTH_BUFFER_BIT,
            gl.GL_NEAREST,
        )
        gl.glBindFramebuffer(gl.GL_DRAW_FRAMEBUFFER, self.renderer._main_fb_ms)

    def full_box(self) -> Box:
        return Box(0, 0, self.width, self.height)
