"""One module per external system: the MLflow tracking server, S3, the local stack."""
