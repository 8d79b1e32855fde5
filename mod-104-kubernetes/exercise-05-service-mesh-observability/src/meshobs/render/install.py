"""Control-plane install values: an IstioOperator and Linkerd's Helm values.

Both set what the rendered policies rely on: mesh-wide mTLS, the OTLP tracing provider the
Telemetry resource names, short workload certificate lifetimes, and access logging.
"""

from __future__ import annotations

from typing import Any

from meshobs.spec import MeshSpec


def istio_operator(spec: MeshSpec, cert_ttl_hours: int = 24) -> dict[str, Any]:
    tel = spec.telemetry
    return {
        "apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator",
        "metadata": {"name": f"{spec.name}-istio", "namespace": "istio-system"},
        "spec": {
            "profile": "default",
            "meshConfig": {
                "trustDomain": spec.trust_domain,
                "enableTracing": True,
                "accessLogFile": "/dev/stdout",
                "defaultConfig": {"proxyMetadata": {"SECRET_TTL": f"{cert_ttl_hours}h"}},
                "extensionProviders": [{
                    "name": tel.otlp_provider,
                    "opentelemetry": {"service": tel.otlp_service, "port": tel.otlp_port,
                                      "http": {"path": "/v1/traces", "timeout": "5s"}},
                }],
            },
            "values": {"global": {"proxy": {"holdApplicationUntilProxyStarts": True}},
                       "pilot": {"env": {"PILOT_ENABLE_WORKLOAD_ENTRY_AUTOREGISTRATION":
                                         False}}},
        },
    }


def linkerd_values(spec: MeshSpec, cert_ttl_hours: int = 24) -> dict[str, Any]:
    """Values for the `linkerd-control-plane` chart (Linkerd 2.16)."""
    return {
        "identityTrustDomain": spec.trust_domain,
        "identity": {"issuer": {"issuanceLifetime": f"{cert_ttl_hours}h0m0s",
                                "clockSkewAllowance": "20s"}},
        "proxy": {"logLevel": "warn,linkerd=info", "accessLog": "apache"},
        "policyController": {"defaultAllowPolicy": "all-authenticated"},
        "podAnnotations": {"config.linkerd.io/trace-collector":
                           f"{spec.telemetry.otlp_service}:{spec.telemetry.otlp_port}"},
    }
