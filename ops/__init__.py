"""Operations: health and readiness probes, the worker heartbeat, request ids in logs and tasks."""
