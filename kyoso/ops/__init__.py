"""Operations: health and readiness, metrics, logs, backups, the deployment check."""
