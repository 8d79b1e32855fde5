"""The Spark side: a Kafka data source in Python, windowed features, foreachBatch sinks."""
