"""One module per external system: the Slack-style webhook and the Airflow REST API."""
