"""Constants shared by the Appearance-Expert tests."""

H = W = 32
SEGMENT = 9  # 4k + 1 frames: 2 latent frames + the reference slot
