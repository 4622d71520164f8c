"""A retried task's wait grows with its retries and is spread at random (worker.policy.backoff)."""

from worker.policy import RETRY_WAIT_LIMIT, backoff


def test_waits_grow_to_the_limit_and_differ_between_tasks():
    for retries in range(10):
        step = min(RETRY_WAIT_LIMIT, 2 ** retries)
        waits = [backoff(retries) for _ in range(200)]
        assert all(step / 2 <= wait <= step for wait in waits)
    # Tasks that met the same outage come back spread over the step, not at one instant.
    assert len({round(backoff(6), 3) for _ in range(50)}) > 40
