"""What every cloud's `MLPlatform` shares: the layer outputs, the layer dispatch, options.

A platform component builds ONE layer of the platform (a stack per layer) and registers the
same output names on every cloud, so a downstream layer, a dashboard or a test reads
`registry_url` without knowing which cloud made it.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

import pulumi

from pulumiml.spec import Layer, PlatformSpec, standard_tags

#: The outputs each layer registers, identical on AWS, GCP and Azure.
LAYER_OUTPUTS: dict[Layer, tuple[str, ...]] = {
    Layer.NETWORK: ("network_id", "subnet_ids", "security_group_id", "kms_key_id"),
    Layer.DATA: ("bucket_names", "bucket_ids"),
    Layer.ML: ("registry_url", "training_identity", "serving_identity", "training_compute"),
    Layer.SERVING: ("endpoint_name", "endpoint_id", "min_replicas", "max_replicas"),
}


class MLPlatformBase(pulumi.ComponentResource, abc.ABC):
    """One layer of the ML platform on one cloud. Subclasses implement `build_<layer>`."""

    cloud: str = ""
    outputs: dict[str, Any]

    def __init__(self, name: str, spec: PlatformSpec, layer: Layer,
                 upstream: Mapping[str, Any] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"pulumiml:{self.cloud}:MLPlatform", name, None, opts)
        self.spec = spec
        self.layer = layer
        self.upstream = dict(upstream or {})
        self.tags = standard_tags(spec, layer)
        # BEGIN SOLUTION
        builders = {Layer.NETWORK: self.build_network, Layer.DATA: self.build_data,
                    Layer.ML: self.build_ml, Layer.SERVING: self.build_serving}
        outputs = builders[layer]()
        expected = set(LAYER_OUTPUTS[layer])
        if set(outputs) != expected:
            raise ValueError(f"{type(self).__name__}.{layer.value}: outputs {sorted(outputs)} "
                             f"differ from {sorted(expected)}")
        self.outputs = outputs
        self.register_outputs(outputs)
        # END SOLUTION

    def child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a child: parented to this component (keeps the graph a tree)."""
        # BEGIN SOLUTION
        return pulumi.ResourceOptions(parent=self, **kwargs)
        # END SOLUTION

    def needs(self, key: str) -> Any:
        """An upstream layer's output (from a StackReference); a clear error when missing."""
        if key not in self.upstream:
            raise KeyError(f"{self.layer.value} layer needs upstream output {key!r}")
        return self.upstream[key]

    def retain(self) -> pulumi.ResourceOptions:
        """Options for data that must outlive `destroy` when the spec says so."""
        return self.child(retain_on_delete=self.spec.retention.keep_on_destroy)

    @abc.abstractmethod
    def build_network(self) -> dict[str, Any]:
        """Create the network layer's resources; return its outputs (same keys on every cloud)."""

    @abc.abstractmethod
    def build_data(self) -> dict[str, Any]:
        """Create the data layer's resources; return its outputs (same keys on every cloud)."""

    @abc.abstractmethod
    def build_ml(self) -> dict[str, Any]:
        """Create the ml layer's resources; return its outputs (same keys on every cloud)."""

    @abc.abstractmethod
    def build_serving(self) -> dict[str, Any]:
        """Create the serving layer's resources; return its outputs (same keys on every cloud)."""
