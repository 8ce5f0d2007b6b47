"""The Celery settings Instep relies on for losing no work, read from the configured app: late
acks, redelivery of a dead worker's message, one message reserved at a time, and time limits
that fit the longest job and stay below the broker's visibility timeout."""

from __future__ import annotations

from pathlib import Path

from orchestrator.celery_app import make_celery
from orchestrator.spec.model import MAX_TIMEOUT_S
from tests.conftest import make_settings


def _conf(tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    return make_celery(make_settings(tmp_path / "home", **env)).conf


def test_messages_are_acknowledged_late_and_given_back_when_the_worker_dies(tmp_path: Path) -> None:
    conf = _conf(tmp_path, INSTEP_REDIS_URL="redis://127.0.0.1:6379/15")
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is True


def test_time_limits_fit_the_longest_job_and_stay_below_the_visibility_timeout(tmp_path: Path) -> None:
    conf = _conf(tmp_path, INSTEP_REDIS_URL="redis://127.0.0.1:6379/15")
    soft, hard = conf.task_soft_time_limit, conf.task_time_limit
    visibility = conf.broker_transport_options["visibility_timeout"]
    # The longest `timeout:` instep.yml accepts, plus checkout and upload, ends before the soft limit.
    assert MAX_TIMEOUT_S < soft < hard < visibility
    assert soft - MAX_TIMEOUT_S >= 600, "no time left for checkout and upload after the longest step"
    assert visibility - hard >= 600, "a task at its hard limit could be handed to a second worker"


def test_embedded_mode_keeps_the_same_task_settings(tmp_path: Path) -> None:
    conf = _conf(tmp_path)
    assert conf.broker_url.startswith("memory://")
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit < conf.task_time_limit
