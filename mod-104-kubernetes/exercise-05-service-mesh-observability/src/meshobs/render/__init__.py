"""Renderers: mesh.yaml -> Istio, Linkerd, install values, kustomize, HAProxy."""
