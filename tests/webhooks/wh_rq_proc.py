"""An RQ worker process whose runner hangs mid-job, for the Redis crash test.

python wh_rq_proc.py REDIS_URL MARKER
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from webhooks.jobs import JobContext, ReviewJob
from webhooks.queue_redis import run_worker


class Hang:
    def run(self, job: ReviewJob, ctx: JobContext) -> None:
        Path(sys.argv[2]).write_text(f"{job.delivery_id} {ctx.attempt}")
        while True:
            time.sleep(1)


if __name__ == "__main__":
    run_worker(sys.argv[1], Hang())
