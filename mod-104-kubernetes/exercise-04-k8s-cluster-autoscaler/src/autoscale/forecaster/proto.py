"""The protocol modules, compiled from externalscaler.proto by grpcio-tools at import."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import grpc

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.append(str(_HERE))  # protos_and_services resolves the .proto on sys.path

pb2: Any
pb2_grpc: Any
pb2, pb2_grpc = grpc.protos_and_services("externalscaler.proto")
SERVICE = "externalscaler.ExternalScaler"
