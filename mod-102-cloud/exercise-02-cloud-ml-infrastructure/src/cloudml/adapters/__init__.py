"""One module per external system: terraform (the CLI) and the S3 state bucket (boto3)."""
