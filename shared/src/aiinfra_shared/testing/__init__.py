"""Test helpers that start real components on loopback.

The pytest plugin (`aiinfra_shared.testing.plugin`, registered through the `pytest11` entry
point) exposes these as fixtures. The launchers themselves live in `aiinfra_shared.procs`
(runtime code, no pytest); they are re-exported here for tests. Production code (an
exercise's `make run`, its benchmark scripts) imports `aiinfra_shared.procs`, never this package.
"""

from aiinfra_shared.procs import *  # noqa: F403  (the launchers, re-exported for tests)
from aiinfra_shared.procs import __all__ as __all__
