"""One module per page (or page family): thin routes over the orchestrator's services."""
