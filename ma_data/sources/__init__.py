"""Sources of raw material for MA-Data (FineDance for the render subset)."""
