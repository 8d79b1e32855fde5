"""The Pulumi program of one layer stack: StackReferences to its upstream layers, then the
cloud's `MLPlatform` component for that layer.

The same function runs under the real engine (Automation API inline program, which exports
the outputs) and under `pulumi.runtime.set_mocks` (`pulumiml.mockrun`, which reads them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from pulumiml.components import LAYER_OUTPUTS, platform_class
from pulumiml.spec import PlatformSpec, StackName


def layer_program(stack: StackName, spec: PlatformSpec,
                  organization: str = "organization",
                  extra_references: tuple[StackName, ...] = ()) -> dict[str, Any]:
    """Declare the layer's resources; return its outputs (the same names on every cloud).

    `extra_references` (from the stack file) are read too, so the engine orders them first.
    """
    # BEGIN SOLUTION
    for extra in extra_references:
        if extra not in stack.references:
            pulumi.StackReference(extra.fully_qualified(organization))
    upstream: dict[str, Any] = {}
    for reference in stack.references:
        ref = pulumi.StackReference(reference.fully_qualified(organization))
        for key in LAYER_OUTPUTS[reference.layer]:
            upstream[key] = ref.get_output(key)
    platform = platform_class(spec.cloud)(str(stack), spec, stack.layer, upstream)
    return platform.outputs
    # END SOLUTION


def inline_program(stack: StackName, spec: PlatformSpec, organization: str = "organization",
                   extra_references: tuple[StackName, ...] = ()) -> Callable[[], None]:
    """The Automation API's inline program: the layer program plus `pulumi.export`."""

    def program() -> None:
        for key, value in layer_program(stack, spec, organization, extra_references).items():
            pulumi.export(key, value)

    return program
