"""One module per external system: S3, PostgreSQL (SQL and its tools), Route53, AWS Backup,
the Pushgateway. The core never imports boto3, psycopg or subprocess directly."""
