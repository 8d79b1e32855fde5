"""The forecast as a KEDA external scaler (gRPC `externalscaler.ExternalScaler`)."""
