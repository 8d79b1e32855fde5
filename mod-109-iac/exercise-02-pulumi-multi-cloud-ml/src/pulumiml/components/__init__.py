"""Component resources per cloud. Imported lazily: each provider SDK costs ~0.7 s to import."""

from __future__ import annotations

import gc
import importlib

from pulumiml.components.base import LAYER_OUTPUTS, MLPlatformBase
from pulumiml.spec import Cloud

__all__ = ["LAYER_OUTPUTS", "MLPlatformBase", "platform_class"]

_LOADED: set[Cloud] = set()


def platform_class(cloud: Cloud) -> type[MLPlatformBase]:
    """The `MLPlatform` component of `cloud` (`pulumiml:<cloud>:MLPlatform`)."""
    module = importlib.import_module(f"pulumiml.components.{cloud.value}")
    if cloud not in _LOADED:
        _LOADED.add(cloud)
        # The provider SDKs are millions of long-lived objects: keep the cyclic collector from
        # rescanning them on every program run (it doubled a 36-stack mock preview).
        gc.freeze()
    cls: type[MLPlatformBase] = module.MLPlatform
    return cls
