"""Instep's orchestrator: settings, storage, the `instep.yml` schema and planner, the run state
machine and scheduler, Celery tasks, webhooks, artifacts, gates, REST API and CLI."""
