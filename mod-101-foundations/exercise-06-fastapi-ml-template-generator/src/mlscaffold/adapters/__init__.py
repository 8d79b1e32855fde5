"""One module per external tool mlscaffold drives (git, uv)."""
