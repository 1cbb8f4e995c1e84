"""A tiny random-initialised Wan-Animate in diffusers layout, for CPU tests and smoke runs.

Same classes and the same on-disk layout as ``Wan-AI/Wan2.2-Animate-14B-Diffusers`` (so it goes through the
real loaders of :mod:`.loading`), with every width shrunk: a 2-block DiT of width 24, a 4-channel-latent Wan
VAE, a 1-layer umT5 encoder, a 1-layer CLIP vision tower, a word-level tokenizer built locally (no Hub access),
and a 16-pixel face motion encoder. Outputs are noise; only wiring, shapes and gradients are meaningful.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Geometry of the tiny model: latent channels, face size, CLIP width, text width.
TINY_LATENT_CHANNELS = 4
TINY_FACE_SIZE = 16
TINY_TEXT_DIM = 16
TINY_IMAGE_DIM = 16

_WORDS = "the person in video is dancing doing actions a on stage 视频中的人在跳舞 视频中的人在做动作".split()


def tiny_transformer_config() -> dict:
    """Config of the tiny ``WanAnimateTransformer3DModel`` (face adapter after blocks 0 and 2 -> 1 fuser)."""
    return {
        "patch_size": (1, 2, 2),
        "num_attention_heads": 2,
        "attention_head_dim": 12,
        "in_channels": 2 * TINY_LATENT_CHANNELS + 4,
        "latent_channels": TINY_LATENT_CHANNELS,
        "out_channels": TINY_LATENT_CHANNELS,
        "text_dim": TINY_TEXT_DIM,
        "freq_dim": 32,
        "ffn_dim": 32,
        "num_layers": 2,
        "cross_attn_norm": True,
        "qk_norm": "rms_norm_across_heads",
        "image_dim": TINY_IMAGE_DIM,
        "rope_max_seq_len": 64,
        # The default motion-encoder widths would dominate the tiny model's parameters; shrink them.
        "motion_encoder_channel_sizes": {"4": 8, "8": 8, "16": 8},
        "motion_encoder_size": TINY_FACE_SIZE,
        "motion_style_dim": 8,
        "motion_dim": 4,
        "motion_encoder_dim": 8,
        "face_encoder_hidden_dim": 8,
        "face_encoder_num_heads": 2,
        "inject_face_latents_blocks": 2,
        "motion_encoder_batch_size": 16,
    }


def build_tiny_transformer(seed: int = 0):
    import torch
    from diffusers import WanAnimateTransformer3DModel

    torch.manual_seed(seed)
    return WanAnimateTransformer3DModel(**tiny_transformer_config())


def _tiny_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for w in _WORDS:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def build_tiny_components(seed: int = 0) -> dict:
    """All seven pipeline components, tiny and random (deterministic for a seed)."""
    import torch
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler
    from transformers import CLIPVisionConfig, CLIPVisionModel, UMT5Config, UMT5EncoderModel
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    tokenizer = _tiny_tokenizer()
    torch.manual_seed(seed)
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(tokenizer),
            d_model=TINY_TEXT_DIM,
            d_kv=4,
            d_ff=16,
            num_layers=1,
            num_heads=2,
            relative_attention_num_buckets=8,
            pad_token_id=0,
            eos_token_id=1,
        )
    )
    torch.manual_seed(seed)
    image_encoder = CLIPVisionModel(
        CLIPVisionConfig(
            hidden_size=TINY_IMAGE_DIM,
            intermediate_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=8,
            patch_size=4,
            projection_dim=8,
        )
    )
    image_processor = CLIPImageProcessorPil(size={"shortest_edge": 8}, crop_size={"height": 8, "width": 8})
    torch.manual_seed(seed)
    vae = AutoencoderKLWan(
        base_dim=4,
        z_dim=TINY_LATENT_CHANNELS,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
        latents_mean=[0.0] * TINY_LATENT_CHANNELS,
        latents_std=[1.0] * TINY_LATENT_CHANNELS,
    )
    # Wan's sampling shift for 480p/720p Animate is 5.0 with flow prediction (Wan config: sample_shift 5.0).
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0
    )
    return {
        "transformer": build_tiny_transformer(seed),
        "vae": vae,
        "text_encoder": text_encoder,
        "tokenizer": tokenizer,
        "image_encoder": image_encoder,
        "image_processor": image_processor,
        "scheduler": scheduler,
    }


def save_tiny_model(root: str | os.PathLike, seed: int = 0) -> Path:
    """Write a tiny Wan-Animate in diffusers layout under ``root`` (model_index.json + one folder each)."""
    from diffusers import WanAnimatePipeline

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    pipe = WanAnimatePipeline(**build_tiny_components(seed))
    pipe.save_pretrained(root, safe_serialization=True)
    return root
