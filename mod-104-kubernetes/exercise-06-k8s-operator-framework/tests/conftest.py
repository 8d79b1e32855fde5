"""Settings for the whole run, set before anything imports `modelop.handlers` (kopf reads the
timer interval when the module is imported): a 1 s resync, no metrics port in process."""

from __future__ import annotations

import os

os.environ["MODELOP_RESYNC_SECONDS"] = "1"
os.environ["MODELOP_METRICS_PORT"] = "0"
os.environ.pop("MODELOP_CONFIG_FILE", None)
os.environ.pop("MODELOP_WEBHOOK__ENABLED", None)
