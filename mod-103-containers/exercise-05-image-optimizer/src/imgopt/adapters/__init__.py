"""One module per external system: image archives on disk, skopeo, buildah, umoci/chroot/strace,
hadolint. Everything else in imgopt is pure over the data these return."""
