"""Per-model GPU facts: the `nvidia.com/gpu.product` label GPU Feature Discovery sets, and
the MIG profiles with their compute slices (NVIDIA MIG user guide, "Supported MIG Profiles").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class GpuModel:
    product: str  # nvidia.com/gpu.product as set by GFD
    dcgm_name: str  # dcgm-exporter's modelName label (nvmlDeviceGetName)
    memory_gib: int
    max_compute_slices: int = 0  # 0: no MIG
    mig_profiles: dict[str, int] = field(default_factory=dict)  # profile -> compute slices


MODELS: dict[str, GpuModel] = {
    "H100-80GB": GpuModel("NVIDIA-H100-80GB-HBM3", "NVIDIA H100 80GB HBM3", 80, 7, {
        "1g.10gb": 1, "1g.20gb": 1, "2g.20gb": 2, "3g.40gb": 3, "4g.40gb": 4, "7g.80gb": 7}),
    "A100-80GB": GpuModel("NVIDIA-A100-SXM4-80GB", "NVIDIA A100-SXM4-80GB", 80, 7, {
        "1g.10gb": 1, "1g.20gb": 1, "2g.20gb": 2, "3g.40gb": 3, "4g.40gb": 4, "7g.80gb": 7}),
    "A100-40GB": GpuModel("NVIDIA-A100-SXM4-40GB", "NVIDIA A100-SXM4-40GB", 40, 7, {
        "1g.5gb": 1, "2g.10gb": 2, "3g.20gb": 3, "4g.20gb": 4, "7g.40gb": 7}),
    "L40S": GpuModel("NVIDIA-L40S", "NVIDIA L40S", 48),
    "L4": GpuModel("NVIDIA-L4", "NVIDIA L4", 24),
    "T4": GpuModel("Tesla-T4", "Tesla T4", 16),
}


def model_by_dcgm_name(name: str) -> str | None:
    return next((key for key, m in MODELS.items() if m.dcgm_name == name), None)


def slice_weight(model: str, profile: str | None) -> Decimal:
    """Share of a physical GPU one MIG instance of `profile` is (1.0 without MIG)."""
    spec = MODELS[model]
    if not profile:
        return Decimal(1)
    return Decimal(spec.mig_profiles[profile]) / Decimal(spec.max_compute_slices)
