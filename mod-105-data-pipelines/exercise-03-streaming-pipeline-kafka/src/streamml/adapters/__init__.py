"""One module per external system: Kafka, the Schema Registry (Avro serde), S3, PostgreSQL."""
