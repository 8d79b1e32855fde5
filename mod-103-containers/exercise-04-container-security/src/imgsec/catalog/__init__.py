"""Package catalogers (dpkg, apk, Python, npm) and the per-layer inventory built on them."""
