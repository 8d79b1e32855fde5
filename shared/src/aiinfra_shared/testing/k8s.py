"""The Kubernetes API emulator for tests: kmock made stateful (see `aiinfra_shared.procs.k8s`,
where it lives so that runtime code such as an exercise's demo or benchmark can start it too).

Test-only entry point: the `k8s_api` fixture imports it when it runs; it needs the `k8s`
extra (kmock).
"""

from aiinfra_shared.procs.k8s import *  # noqa: F403  (re-exported for tests)
from aiinfra_shared.procs.k8s import __all__ as __all__
