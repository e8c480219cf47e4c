"""Nothing lives in one process's memory (issue 16): what several app processes must agree on."""

import multiprocessing

from certflow.config import _secret_key

PROCESSES = 16


def _key_of(instance, barrier, results) -> None:
    barrier.wait()
    results.put(_secret_key(instance))


def test_processes_starting_together_generate_one_secret_key(tmp_path):
    """gunicorn starts its workers at once; each generating its own key would make a session
    signed by one worker invalid in the next (signed out at random)."""
    context = multiprocessing.get_context("fork")
    for attempt in range(20):
        instance = tmp_path / f"instance-{attempt}"
        barrier, results = context.Barrier(PROCESSES), context.Queue()
        arguments = (instance, barrier, results)
        workers = [context.Process(target=_key_of, args=arguments) for _ in range(PROCESSES)]
        for worker in workers:
            worker.start()
        keys = {results.get(timeout=30) for _ in workers}
        for worker in workers:
            worker.join()
        assert keys == {(instance / "secret_key").read_text().strip()}
        assert len(next(iter(keys))) == 64
        assert [p.name for p in instance.iterdir()] == ["secret_key"]  # no temporary file left
