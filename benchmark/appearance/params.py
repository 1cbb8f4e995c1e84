"""Fixed numeric parameters of the full-reference metrics (kept free of heavy imports for the protocol)."""

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
DATA_RANGE = 255.0
PSNR_MAX_DB = 100.0

#: FVD clip policies (which 16-frame clips of each paired video feed the I3D statistics).
FVD_CLIP_LEN = 16
FVD_MAX_VIDEOS = 2048  # StyleGAN-V's fvd2048_16f: max_real = num_gen = 2048 videos
FVD_CLIP_POLICIES = {
    "all-runs": "every non-overlapping run of 16 consecutive frames of the paired frame range (pred frame i with "
    "GT frame i), so long videos weigh more; a video shorter than 16 frames contributes none",
    "stylegan-v": "one clip per video, its first 16 paired frames (StyleGAN-V fvd2048_16f: load_n_consecutive=16, "
    "subsample 1, offset 0 as for its generated set; its real set draws a random offset, unseeded, which a paired "
    "evaluation replaces by the same offset 0); videos shorter than 16 frames are discarded; at most 2048 videos "
    "(in sorted stem order)",
}
#: Kept from vbench-appearance 1.0 so existing results keep their meaning (see benchmark/appearance/fvd.py).
DEFAULT_FVD_CLIP_POLICY = "all-runs"
