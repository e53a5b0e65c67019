"""Background work: the job runner of ``ctx.scheduler``, cron jobs and the workers that drive them.

- :class:`~authlib_core.scheduler.runner.JobRunner` runs one job with Convex's guarantees (mutations exactly once,
  actions at most once, failures recorded);
- the dev server runs an in-process worker; on AWS a one-minute tick and an SQS delay queue drive the same runner
  (docs/scheduler.md).
"""

from __future__ import annotations

from authlib_core.scheduler.runner import JobRunner, RunResult

__all__ = ["JobRunner", "RunResult"]
