"""A worker process for the crash-recovery test.

    python wh_worker_proc.py DB API_URL JOBS_DIR MARKERS GIT_URL [--hold]

With --hold, the review step of every job blocks after writing `MARKERS/started-<delivery>`, so the
test can `kill -9` this process mid-job.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pydantic import SecretStr

from tests.webhooks.wh_runners import clone_runner, diff_review
from webhooks.auth import StaticTokenProvider
from webhooks.jobs import ReviewJob
from webhooks.queue import RetryPolicy
from webhooks.queue_sqlite import SqliteQueue, WorkerPool


def main() -> None:
    db, api, jobs, markers, git_url = sys.argv[1:6]
    hold = "--hold" in sys.argv
    queue = SqliteQueue(Path(db), retry=RetryPolicy(max_attempts=5, base_delay_s=0.1), lease_s=1.5)
    runner = clone_runner(StaticTokenProvider(SecretStr("tok"), api), api, Path(jobs), git_url)

    def review(root: Path, job: ReviewJob) -> list[str]:
        (Path(markers) / f"started-{job.delivery_id}").write_text("")
        while hold:
            time.sleep(1)
        return diff_review(root, job)

    runner.review = review
    pool = WorkerPool(queue, runner, concurrency=2, poll_s=0.05)
    pool.start()
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
