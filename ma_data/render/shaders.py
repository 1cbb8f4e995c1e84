"""Two variants of pyrender's mesh program, compiled from pyrender's own shader sources.

**Fixed light counts.** pyrender's ``mesh.frag`` loops over ``n_directional_lights`` (and point and spot
lights), counts it reads from uniforms. Mesa's llvmpipe runs those uniform-bounded loops about 3x slower
than the same loops with literal bounds (62 vs 21 ms for the 720x1280 mannequin on one core), and the
shading is most of a frame's cost on a CPU. A scene's light counts are known when it is drawn, so the
render paths compile the program with the counts as literals: the same operations in the same order, and
the same bytes out (checked against pyrender's program by tests/ma_data/render/test_render_paths.py).

**Rigid skinning.** The ``gpu-scene`` path uploads the mannequin once, in its parts' own frames, with each
vertex's part index, and per frame sends the 25 part transforms as a ``mat4`` uniform array; the vertex
shader applies the vertex's transform before pyrender's model matrix (every ``M * inst_m`` becomes
``M * inst_m * bone``). pyrender 0.1.45 uploads no joint/weight attributes, so the part index travels in
``texcoord_1.x``, which pyrender uploads and its fragment shader leaves unused without textures. Only
primitives with ``texcoord_1`` get the skinning shader.

Both patches check that the source is the one they were written for (pyrender 0.1.45, its last release)
and raise ``ValueError`` otherwise, rather than compile something else.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MAX_BONES",
    "LightCounts",
    "install_programs",
    "light_counts",
    "program_cache",
    "skinned_vertex_shader",
    "fixed_lights_fragment_shader",
]

#: Size of the skinning shader's bone array (the mannequin has 25 parts).
MAX_BONES = 32


@dataclass(frozen=True)
class LightCounts:
    """How many lights of each kind pyrender binds for a scene."""

    directional: int
    point: int
    spot: int


def light_counts(renderer, scene, flags: int) -> LightCounts:
    """The counts pyrender's ``_bind_lighting`` uploads for ``scene`` (its own cap per kind applied)."""
    cap = renderer._compute_max_n_lights(flags)
    return LightCounts(
        directional=min(len(scene.directional_light_nodes), cap[0]),
        point=min(len(scene.point_light_nodes), cap[2]),
        spot=min(len(scene.spot_light_nodes), cap[1]),
    )


def fixed_lights_fragment_shader(text: str, counts: LightCounts) -> str:
    """pyrender's ``mesh.frag`` (after its ``#ifdef`` processing) with literal light-loop bounds."""
    for name, n in (
        ("n_directional_lights", counts.directional),
        ("n_point_lights", counts.point),
        ("n_spot_lights", counts.spot),
    ):
        loop = f"i < {name};"
        if text.count(loop) != 1:
            raise ValueError(
                f"pyrender's mesh.frag has no single '{loop}' loop (written for pyrender 0.1.45)"
            )
        text = text.replace(loop, f"i < {int(n)};")
    return text


def skinned_vertex_shader(text: str, n_bones: int = MAX_BONES) -> str:
    """pyrender's ``mesh.vert`` (after its ``#ifdef`` processing) with rigid skinning by ``texcoord_1.x``."""
    anchor = "void main()\n{"
    if text.count("M * inst_m") != 3 or text.count(anchor) != 1 or "texcoord_1" not in text:
        raise ValueError("pyrender's mesh.vert is not the one the skinning shader was written for (0.1.45)")
    text = text.replace("M * inst_m", "M * inst_m * bone")
    return text.replace(
        anchor, f"uniform mat4 bones[{n_bones}];\n\n{anchor}\n    mat4 bone = bones[int(texcoord_1.x + 0.5)];"
    )


@functools.lru_cache(maxsize=1)
def _classes():
    from pyrender.shader_program import ShaderProgram, ShaderProgramCache

    class Program(ShaderProgram):
        """pyrender's mesh program, optionally skinned and/or with fixed light counts."""

        def __init__(self, *args, skinned: bool, lights: LightCounts | None, **kwargs):
            super().__init__(*args, **kwargs)
            self.skinned, self.lights = skinned, lights

        def _load(self, shader_filename):
            text = super()._load(shader_filename)
            if shader_filename == self.vertex_shader and self.skinned:
                text = skinned_vertex_shader(text)
            if shader_filename == self.fragment_shader and self.lights is not None:
                text = fixed_lights_fragment_shader(text, self.lights)
            return text

        def set_bones(self, bones: np.ndarray) -> None:
            """Upload (P, 4, 4) part transforms (row-major) to this program, which must be bound."""
            from OpenGL import GL as gl

            loc = gl.glGetUniformLocation(self._program_id, "bones")
            gl.glUniformMatrix4fv(loc, len(bones), gl.GL_TRUE, np.ascontiguousarray(bones, np.float32))

    class Cache(ShaderProgramCache):
        """pyrender's program cache; mesh programs get the variants (``lights`` is set per pass)."""

        lights: LightCounts | None = None

        def get_program(self, vertex_shader, fragment_shader, geometry_shader=None, defines=None):
            defines = defines or {}
            mesh = vertex_shader == "mesh.vert" and fragment_shader == "mesh.frag"
            skinned = mesh and "TEXCOORD_1_LOC" in defines
            lights = self.lights if mesh else None
            if not skinned and lights is None:
                return super().get_program(vertex_shader, fragment_shader, geometry_shader, defines)
            import OpenGL.contextdata

            key = ("mace", skinned, lights, OpenGL.contextdata.getContext(), tuple(sorted(defines.items())))
            if key not in self._program_cache:
                self._program_cache[key] = Program(
                    vertex_shader=os.path.join(self.shader_dir, vertex_shader),
                    fragment_shader=os.path.join(self.shader_dir, fragment_shader),
                    defines=defines,
                    skinned=skinned,
                    lights=lights,
                )
            return self._program_cache[key]

    return Program, Cache


def program_cache():
    """A new pyrender ``ShaderProgramCache`` that compiles the variants (see the module docstring)."""
    return _classes()[1]()


def install_programs(offscreen) -> None:
    """Give a ``pyrender.OffscreenRenderer`` the variant-aware program cache (once; idempotent). Programs
    for passes that do not set ``lights`` (pyrender's own ``render``) are pyrender's, unchanged."""
    renderer = offscreen._renderer
    if isinstance(renderer._program_cache, _classes()[1]):
        return
    offscreen._platform.make_current()
    renderer._program_cache.clear()
    renderer._program_cache = program_cache()
