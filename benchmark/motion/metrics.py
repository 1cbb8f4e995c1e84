"""The motion metrics the 2D and 3D protocols report: key, display label, direction, meaning.

One definition per metric key, shared by every motion protocol that reports it (the same key always has
the same label and direction; its *numbers* depend on the protocol).
"""

from __future__ import annotations

from benchmark.protocol_base import MetricSpec

FID_K = MetricSpec("fid_k", "FID_k", False, "Frechet distance of kinetic features, generated vs GT")
FID_G = MetricSpec("fid_g", "FID_g", False, "Frechet distance of geometric features, generated vs GT")
DIV_K = MetricSpec("div_k", "Div_k", True, "mean pairwise distance of kinetic features (generated)")
DIV_G = MetricSpec("div_g", "Div_g", True, "mean pairwise distance of geometric features (generated)")
BAS = MetricSpec("bas", "BAS", True, "beat align score (generated)")
DIV_K_GT = MetricSpec("div_k_gt", "Div_k GT", None, "mean pairwise distance of kinetic features (GT)")
DIV_G_GT = MetricSpec("div_g_gt", "Div_g GT", None, "mean pairwise distance of geometric features (GT)")
BAS_GT = MetricSpec("bas_gt", "BAS GT", None, "beat align score (GT)")
PFC = MetricSpec("pfc", "PFC", False, "physical foot contact score x1e4 (generated)")
PFC_GT = MetricSpec("pfc_gt", "PFC GT", None, "physical foot contact score x1e4 (GT)")
FSR = MetricSpec("fsr", "FSR", False, "foot skating ratio (generated)")
FSR_GT = MetricSpec("fsr_gt", "FSR GT", None, "foot skating ratio (GT)")

#: FID/Div/BAS with the GT references, in reporting order (the 2D protocols report exactly these).
MOTION_METRICS = (FID_K, FID_G, DIV_K, DIV_G, BAS, DIV_K_GT, DIV_G_GT, BAS_GT)
#: ... plus the physical scores (the 3D protocols).
MOTION3D_METRICS = (*MOTION_METRICS, PFC, PFC_GT, FSR, FSR_GT)
