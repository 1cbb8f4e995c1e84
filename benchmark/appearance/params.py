"""Fixed numeric parameters of the full-reference metrics (kept free of heavy imports for the protocol)."""

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
DATA_RANGE = 255.0
PSNR_MAX_DB = 100.0
