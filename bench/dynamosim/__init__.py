"""A discrete-event model of DynamoDB's concurrency, driven by the real engine code (docs/performance.md, "scale").

* :mod:`.scheduler` — virtual time; simulated Lambda instances are threads of which exactly one runs at a time.
* :mod:`.store` — the table: items, transaction locks, per-partition throughput, transaction limits, latencies.
* :mod:`.client` — the low-level client the engine is given (the operations it uses, botocore's errors and its
  standard-mode retries of throttling).
* :mod:`.workloads` — independent users, shared feed, hot counter, at N instances; the figures of each run.

Example:
    >>> from bench.dynamosim.workloads import run_workload
    >>> result = run_workload("hot counter", instances=2, duration_s=0.2, seed=1)  # doctest: +SKIP
"""
