"""Observability: Prometheus metrics, log records, and the redaction of secrets from logs and error reports."""
