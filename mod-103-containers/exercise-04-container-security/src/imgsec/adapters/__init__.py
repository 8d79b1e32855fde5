"""One module per external system: image files on disk, skopeo, syft, hadolint, SQLite."""
