"""One module per external system (AWS, GCP, Azure, files, SMTP, webhooks): the only code
that does network or file I/O against a provider. Everything else works on Arrow tables."""
