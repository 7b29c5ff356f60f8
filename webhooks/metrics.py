"""Prometheus metrics, one `CollectorRegistry` per app (so tests and several apps never collide).

Job counts by state are read from the queue at scrape time (a custom collector), so they are right
for both backends and across processes; deliveries and run durations are counted where they happen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from webhooks.errors import QueueUnavailable
from webhooks.queue import QueueStats

log = logging.getLogger(__name__)

DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, float("inf"))


class _QueueCollector(Collector):
    def __init__(self, stats: Callable[[], QueueStats]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("reviewbot_jobs", "Review jobs by state", labels=["state"])
        try:
            s = self._stats()
        except QueueUnavailable as exc:
            log.warning("queue stats unavailable: %s", exc)
            return
        for state in ("queued", "running", "done", "dead", "superseded"):
            family.add_metric([state], getattr(s, state))
        # "failed" in the dashboards' sense: the dead-letter count.
        family.add_metric(["failed"], s.dead)
        yield family


class Metrics:
    def __init__(self, stats: Callable[[], QueueStats]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.deliveries = Counter(
            "reviewbot_webhook_deliveries",
            "Webhook deliveries by event and outcome",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.job_runs = Counter(
            "reviewbot_job_runs", "Finished job runs by outcome", ["outcome"], registry=self.registry
        )
        self.review_duration = Histogram(
            "reviewbot_review_duration_seconds",
            "Wall time of one job run (clone, review, publish)",
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_QueueCollector(stats))

    def delivery(self, event: str, outcome: str) -> None:
        # Event names come from a header: cap the label's cardinality.
        self.deliveries.labels(event=event[:40] or "none", outcome=outcome).inc()

    def job_finished(self, outcome: str, seconds: float) -> None:
        self.job_runs.labels(outcome=outcome).inc()
        if outcome in ("done", "dead", "retry"):
            self.review_duration.observe(seconds)
