"""One module per external system: git, DVC, the OCI registry, GitHub's API, server processes."""
