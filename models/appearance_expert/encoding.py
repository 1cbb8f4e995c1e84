"""Turning conditioning inputs into the DiT's inputs, shared by training and inference.

diffusers' Wan-Animate layout (one segment of ``F`` output frames, ``F = 77`` for the 14B model, i.e. the
official "81 frames, 77 controlled": 20 latent frames plus one latent slot for the reference image):

* ``hidden_states`` (B, 2C+4, 1+L, h, w) = noisy latents (C channels, 1+L frames) concatenated on channels with
  the conditioning latents, which are [reference image latent + 4-channel mask] on frame 0 followed by
  [previous-segment frames latent + mask] on frames 1..L (zeros and mask 0 for a first segment; for a relay
  segment the last ``k`` frames of the previous segment and mask 1 on them);
* ``pose_hidden_states`` (B, C, L, h, w) = VAE latents of the pose segment (added to frames 1..L);
* ``face_pixel_values`` (B, 3, F, 512, 512) in [-1, 1];
* ``encoder_hidden_states`` = umT5 prompt embeddings, ``encoder_hidden_states_image`` = CLIP features of the
  reference (penultimate layer).

The pipeline's own helpers (``prepare_reference_image_latents``, ``prepare_prev_segment_cond_latents``,
``prepare_pose_latents``) do the VAE work, so training sees exactly what inference builds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ma_data.core.errors import ConfigError

from .conditioning import fit_frames


@dataclass
class SegmentConditioning:
    """Everything the DiT needs for one segment besides the noisy latents and the timestep."""

    reference_latents: torch.Tensor  # (B, C+4, 1+L, h, w)
    pose_latents: torch.Tensor  # (B, C, L, h, w)
    face_pixels: torch.Tensor  # (B, 3, F, S, S)
    prompt_embeds: torch.Tensor
    image_embeds: torch.Tensor


def latent_frames(n_frames: int, temporal_factor: int = 4) -> int:
    if (n_frames - 1) % temporal_factor:
        raise ConfigError(f"segment length {n_frames} must be 4k+1 (e.g. 77)")
    return (n_frames - 1) // temporal_factor + 1


def frames_to_video_tensor(frames: np.ndarray, height: int, width: int) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (1, 3, T, height, width) float32 in [-1, 1]."""
    frames = fit_frames(frames, height, width)
    video = torch.from_numpy(np.ascontiguousarray(frames)).float().div_(127.5).sub_(1.0)
    return video.permute(3, 0, 1, 2).unsqueeze(0)


class Conditioner:
    """Encodes prompts, reference images, pose/face/target videos with a ``WanAnimatePipeline``'s components.

    Prompt embeddings are cached per prompt string (training data usually has one prompt), which saves running
    the 5.7B umT5 encoder every step.
    """

    def __init__(self, pipe, device: torch.device | str = "cpu", max_sequence_length: int = 512):
        self.pipe = pipe
        self.device = torch.device(device)
        self.max_sequence_length = max_sequence_length
        self._prompt_cache: dict[str, torch.Tensor] = {}

    @property
    def dtype(self) -> torch.dtype:
        return self.pipe.transformer.dtype

    @torch.no_grad()
    def prompt(self, text: str) -> torch.Tensor:
        if text not in self._prompt_cache:
            emb, _ = self.pipe.encode_prompt(
                prompt=text,
                do_classifier_free_guidance=False,
                max_sequence_length=self.max_sequence_length,
                device=self.device,
            )
            self._prompt_cache[text] = emb.detach()
        return self._prompt_cache[text]

    @torch.no_grad()
    def image_embeds(self, image) -> torch.Tensor:
        return self.pipe.encode_image(image, self.device)

    @torch.no_grad()
    def reference_latents(self, image, height: int, width: int) -> torch.Tensor:
        """VAE latent of the reference image with its 4-channel mask: (1, C+4, 1, h, w)."""
        pixels = self.pipe.vae_image_processor.preprocess(
            image, height=height, width=width, resize_mode="fill"
        )
        return self.pipe.prepare_reference_image_latents(
            pixels.to(self.device, torch.float32), 1, device=self.device
        )

    @torch.no_grad()
    def video_latents(self, frames: np.ndarray, height: int, width: int) -> torch.Tensor:
        """Normalised VAE latents (1, C, L, h, w) of (T, H, W, 3) frames (pose video or training target)."""
        video = frames_to_video_tensor(frames, height, width).to(self.device)
        return self.pipe.prepare_pose_latents(video, 1, device=self.device)

    @torch.no_grad()
    def prev_segment_latents(
        self, prev_frames: np.ndarray | None, n_frames: int, height: int, width: int, first_segment: bool
    ) -> torch.Tensor:
        """Latents + mask of the relay conditioning: the last frames of the previous segment (or nothing)."""
        video = None
        k = 1
        if prev_frames is not None:
            k = len(prev_frames)
            video = frames_to_video_tensor(prev_frames, height, width).to(self.device)
        return self.pipe.prepare_prev_segment_cond_latents(
            video,
            batch_size=1,
            segment_frame_length=n_frames,
            start_frame=0 if first_segment else 1,
            height=height,
            width=width,
            prev_segment_cond_frames=k,
            task="animate",
            device=self.device,
        )

    def face_pixels(self, face_frames: np.ndarray) -> torch.Tensor:
        size = self.pipe.transformer.config.motion_encoder_size
        return frames_to_video_tensor(face_frames, size, size).to(self.device, self.dtype)

    def segment(
        self,
        *,
        reference_image,
        pose_frames: np.ndarray,
        face_frames: np.ndarray,
        prompt: str,
        height: int,
        width: int,
        prev_frames: np.ndarray | None = None,
        image_embeds: torch.Tensor | None = None,
        reference_latents: torch.Tensor | None = None,
    ) -> SegmentConditioning:
        """Conditioning of one ``F``-frame segment (``len(pose_frames) == len(face_frames) == F``)."""
        n = len(pose_frames)
        if len(face_frames) != n:
            raise ConfigError(f"pose segment has {n} frames but face segment {len(face_frames)}")
        latent_frames(n)
        if reference_latents is None:
            reference_latents = self.reference_latents(reference_image, height, width)
        if image_embeds is None:
            image_embeds = self.image_embeds(reference_image)
        prev = self.prev_segment_latents(prev_frames, n, height, width, first_segment=prev_frames is None)
        return SegmentConditioning(
            reference_latents=torch.cat([reference_latents, prev.to(reference_latents.dtype)], dim=2),
            pose_latents=self.video_latents(pose_frames, height, width).to(self.dtype),
            face_pixels=self.face_pixels(face_frames),
            prompt_embeds=self.prompt(prompt).to(self.dtype),
            image_embeds=image_embeds.to(self.dtype),
        )


def transformer_forward(
    transformer, noisy: torch.Tensor, timestep: torch.Tensor, cond: SegmentConditioning, **kw
):
    """Velocity prediction for noisy latents (B, C, 1+L, h, w) under ``cond``."""
    dtype = cond.pose_latents.dtype
    batch = noisy.shape[0]

    def _b(x):
        return x.expand(batch, *x.shape[1:]) if x.shape[0] == 1 and batch > 1 else x

    hidden = torch.cat([noisy, _b(cond.reference_latents).to(noisy.dtype)], dim=1).to(dtype)
    return transformer(
        hidden_states=hidden,
        timestep=timestep,
        encoder_hidden_states=_b(cond.prompt_embeds),
        encoder_hidden_states_image=_b(cond.image_embeds),
        pose_hidden_states=_b(cond.pose_latents),
        face_pixel_values=_b(cond.face_pixels),
        return_dict=False,
        **kw,
    )[0]
