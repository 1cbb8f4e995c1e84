"""Appearance Expert inference: one segment, or a long video by the paper's pose-anchored relay.

Official settings (``appearance_infer.py``): 1280x720 portrait, "81 frames (77 controlled)" -- in diffusers'
terms a segment of ``F = 77`` output frames plus the reference-image latent slot --, 20 steps, no CFG
(``guidance_scale = 1``), seed 0, LoRA strength 0.5.

**Relay** (paper §3.3; not in the released code). A video of ``T`` frames is cut into segments of ``F`` frames
that start every ``F - k`` frames. Segment ``i`` is conditioned on

1. the *global* pose sequence -- frames ``[s_i, s_i + F)`` of the one pose video of the whole dance, so every
   segment sees the poses at their true times (the last segment's pose window is padded by repeating the last
   pose frame);
2. the last ``k`` generated frames of segment ``i - 1`` (its relay frames), placed as the first ``k`` frames of
   segment ``i``'s conditioning video with mask 1 (Wan-Animate's temporal guidance, ``refert_num``); and
3. the same reference image (VAE latent + CLIP features computed once).

**Overlap**: consecutive segments overlap by ``k`` frames; segment ``i``'s first ``k`` output frames re-generate
the frames it was conditioned on and are dropped, so the output has exactly ``T`` frames and each segment adds
``F - k`` new ones. ``k = 1`` is the paper's "last frame of the previous chunk"; ``k = 5`` (one full latent frame
plus the first) is Wan-Animate's other trained setting and gives smoother joins at 4/77 extra cost per segment.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from ma_data.core.errors import ConfigError

from .conditioning import DEFAULT_PROMPT, null_face_video
from .encoding import Conditioner, latent_frames, transformer_forward
from .loading import MemoryOptions, apply_memory_options, load_pipeline, resolve_model_dir

#: (height, width) presets; portrait like the official inference and the MA-Data renders.
RESOLUTIONS = {"480p": (832, 480), "720p": (1280, 720)}
SEGMENT_FRAMES = 77  # the official "81 frames, 77 controlled"
DEFAULT_STEPS = 20
DEFAULT_FPS = 16.0
RELAY_OVERLAPS = (1, 5)


@dataclass(frozen=True)
class Segment:
    index: int
    start: int  # global index of the segment's first frame
    keep_from: int  # frames [start + keep_from, start + F) are new output


def plan_relay(n_frames: int, segment_frames: int = SEGMENT_FRAMES, overlap: int = 1) -> list[Segment]:
    """Segments covering ``n_frames``: segment i starts at ``i * (F - k)``; all but the first drop ``k`` frames."""
    if n_frames <= 0:
        raise ConfigError("nothing to generate: n_frames must be positive")
    if not 0 < overlap < segment_frames:
        raise ConfigError(f"overlap must be in 1..{segment_frames - 1}, got {overlap}")
    stride = segment_frames - overlap
    segments = [Segment(0, 0, 0)]
    while segments[-1].start + segment_frames < n_frames:
        segments.append(Segment(len(segments), segments[-1].start + stride, overlap))
    return segments


def _window(frames: np.ndarray, start: int, length: int) -> np.ndarray:
    """``frames[start:start+length]``, padded by repeating the last frame."""
    part = frames[start : start + length]
    if len(part) < length:
        part = np.concatenate([part, np.repeat(frames[-1:], length - len(part), axis=0)])
    return part


@dataclass
class SegmentRecord:
    segment: Segment
    relay_frames: np.ndarray | None  # the previous segment's frames this one was conditioned on
    frames: np.ndarray  # all F generated frames of the segment


@dataclass
class AnimationResult:
    frames: np.ndarray  # (T, H, W, 3) uint8
    fps: float
    segments: list[SegmentRecord] = field(default_factory=list)


def _to_uint8(video: torch.Tensor) -> np.ndarray:
    """(1, 3, T, H, W) in [-1, 1] -> (T, H, W, 3) uint8."""
    v = ((video[0].float().clamp(-1, 1) + 1) * 127.5).round().byte()
    return v.permute(1, 2, 3, 0).cpu().numpy()


class AppearanceExpert:
    """A Wan-Animate pipeline (optionally with our stage-1 adapter and stage-2 LoRA) that animates a reference."""

    def __init__(self, pipe, device: str | torch.device = "cpu", max_sequence_length: int = 512):
        self.pipe = pipe
        self.device = torch.device(device)
        self.conditioner = Conditioner(pipe, self.device, max_sequence_length)

    @classmethod
    def from_pretrained(
        cls,
        model_dir: str | os.PathLike | None = None,
        body_adapter: str | os.PathLike | None = None,
        lora: str | os.PathLike | None = None,
        lora_strength: float = 0.5,
        memory: MemoryOptions | None = None,
        device: str | None = None,
        max_sequence_length: int = 512,
    ) -> AppearanceExpert:
        """Load the base model (weights cache or ``model_dir``), then the fine-tuned parts if given."""
        from .stages import load_body_adapter, load_lora

        memory = memory or MemoryOptions()
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        pipe = load_pipeline(resolve_model_dir(model_dir), memory)
        if body_adapter is not None:
            load_body_adapter(pipe.transformer, body_adapter)
        if lora is not None:
            load_lora(pipe.transformer, lora, strength=lora_strength)
        apply_memory_options(pipe, memory, device)
        return cls(pipe, device, max_sequence_length)

    @torch.no_grad()
    def _denoise(
        self, cond, n_frames, height, width, steps, guidance_scale, negative, generator
    ) -> torch.Tensor:
        pipe = self.pipe
        scheduler = copy.deepcopy(pipe.scheduler)  # fresh multistep state for every segment
        scheduler.set_timesteps(steps, device=self.device)
        sf = pipe.vae_scale_factor_spatial
        shape = (1, pipe.vae.config.z_dim, latent_frames(n_frames) + 1, height // sf, width // sf)
        latents = torch.randn(shape, generator=generator, dtype=torch.float32).to(self.device)
        for t in scheduler.timesteps:
            timestep = t.expand(1).to(self.device)
            v = transformer_forward(pipe.transformer, latents, timestep, cond)
            if guidance_scale > 1.0:
                uncond = copy.copy(cond)
                uncond.face_pixels = cond.face_pixels * 0 - 1  # Wan-Animate's blank face
                uncond.prompt_embeds = negative
                v_u = transformer_forward(pipe.transformer, latents, timestep, uncond)
                v = v_u + guidance_scale * (v - v_u)
            latents = scheduler.step(v.float(), t, latents, return_dict=False)[0]
        vae = pipe.vae
        mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1).to(latents)
        std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1).to(latents)
        latents = (latents * std + mean).to(vae.dtype)
        return vae.decode(latents[:, :, 1:], return_dict=False)[0]  # drop the reference slot

    def animate(self, reference_image, pose_frames, face_frames=None, **kwargs) -> AnimationResult:
        """Animate ``reference_image`` along ``pose_frames`` (T, H, W, 3); returns all T frames in memory.

        Same arguments as :meth:`animate_iter`; use that for long videos (it streams segment by segment).
        """
        out: list[np.ndarray] = []
        records: list[SegmentRecord] = []
        for record, new in self.animate_iter(reference_image, pose_frames, face_frames, **kwargs):
            records.append(record)
            out.append(new)
        n = len(pose_frames)
        return AnimationResult(np.concatenate(out)[:n], kwargs.get("fps", DEFAULT_FPS), records)

    def animate_iter(
        self,
        reference_image,
        pose_frames,
        face_frames=None,
        prompt: str = DEFAULT_PROMPT,
        height: int = RESOLUTIONS["720p"][0],
        width: int = RESOLUTIONS["720p"][1],
        fps: float = DEFAULT_FPS,
        segment_frames: int = SEGMENT_FRAMES,
        steps: int = DEFAULT_STEPS,
        guidance_scale: float = 1.0,
        negative_prompt: str = "",
        seed: int = 0,
        overlap: int = 1,
        progress: Callable[[int, int], None] | None = None,
    ) -> Iterator[tuple[SegmentRecord, np.ndarray]]:
        """Yield ``(record, new_frames)`` per relay segment; the new frames of all segments, in order, are the
        video (the last segment's may run past T: trim to ``len(pose_frames)``).

        ``pose_frames`` is anything with ``len()`` and slicing that returns (k, H, W, 3) uint8 arrays: an array
        or a lazily drawn :class:`~.conditioning.PoseVideo`. ``face_frames`` defaults to the null face (generated
        motion has no driving face). ``fps`` is only recorded: the pose video must already be at that rate.
        """
        if isinstance(pose_frames, list):
            pose_frames = np.asarray(pose_frames)
        n = len(pose_frames)
        if face_frames is not None and len(face_frames) != n:
            raise ConfigError(f"{n} pose frames but {len(face_frames)} face frames")
        if height % 16 or width % 16:
            raise ConfigError(f"height and width must be multiples of 16, got {height}x{width}")
        if overlap not in RELAY_OVERLAPS:
            raise ConfigError(
                f"relay overlap must be one of {RELAY_OVERLAPS} (Wan-Animate's trained settings)"
            )
        latent_frames(segment_frames)
        generator = torch.Generator("cpu").manual_seed(seed)
        c = self.conditioner
        face_size = self.pipe.transformer.config.motion_encoder_size
        ref_latents = c.reference_latents(reference_image, height, width)
        image_embeds = c.image_embeds(reference_image)
        negative = c.prompt(negative_prompt).to(c.dtype) if guidance_scale > 1.0 else None

        plan = plan_relay(n, segment_frames, overlap)
        previous: np.ndarray | None = None
        for seg in plan:
            relay = None if previous is None else previous[-overlap:]
            if face_frames is None:
                face = null_face_video(segment_frames, face_size)
            else:
                face = _window(np.asarray(face_frames), seg.start, segment_frames)
            cond = c.segment(
                reference_image=reference_image,
                pose_frames=_window(pose_frames, seg.start, segment_frames),
                face_frames=face,
                prompt=prompt,
                height=height,
                width=width,
                prev_frames=relay,
                image_embeds=image_embeds,
                reference_latents=ref_latents,
            )
            video = self._denoise(
                cond, segment_frames, height, width, steps, guidance_scale, negative, generator
            )
            previous = _to_uint8(video)
            if progress is not None:
                progress(seg.index + 1, len(plan))
            yield SegmentRecord(seg, relay, previous), previous[seg.keep_from :]
