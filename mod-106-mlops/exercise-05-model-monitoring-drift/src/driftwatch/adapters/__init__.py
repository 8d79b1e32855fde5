"""One module per external system: Evidently, the Pushgateway, Airflow, files."""
