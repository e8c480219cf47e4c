"""The 3-year simulation (tests/lifecycle_simulation.py) run by several processes on one
database, as the product runs several app workers and schedulers against one PostgreSQL
(issue 16).

Each worker process has its own app and its own scripted actor, which applies for its share of
the clients (serials i, i + n, i + 2n, … of n workers) and answers only their tasks. The clock
is the database's simulated clock, moved by this coordinator alone, in lockstep: every worker
answers what is due now and says when its next step is due; the clock moves to the earliest of
those and the next due timer; then every worker sweeps, as concurrent schedulers do (a timer is
fired once: row lock with SKIP LOCKED, engine/timer_sweep.py), and answers again. SQLite has
one writer at a time, so this runs on PostgreSQL.
"""

import contextlib
import logging
import multiprocessing
import time
import traceback
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from certflow.dates import CHINA_TZ
from certflow.db import db
from scenarios.people import People
from tests.lifecycle_simulation import Figures, LifecycleSimulation


class WorkerFailed(RuntimeError):
    """A worker process raised; its traceback is the message."""


def _serve(connection, config: dict, instance_path: str, people: People, options: dict) -> None:
    """One worker: its own app on the shared database, commands from the coordinator."""
    from webapp import create_app

    logging.disable(options.pop("logging_disabled"))
    app = create_app(config, instance_path=instance_path)
    with app.app_context():
        simulation = LifecycleSimulation(
            app, people, Path(instance_path) / "uploads", only_own_clients=True, **options
        )
        cpu = time.process_time()
        while True:
            command, argument = connection.recv()
            try:
                if command == "stop":
                    break
                if command == "apply":
                    simulation.add_applications(argument)
                    answer = None
                elif command == "work":
                    answer = simulation.work()
                elif command == "sweep":
                    simulation.sweep()
                    answer = None
                elif command == "figures":  # since the last call
                    answer = simulation.take_figures()
                    answer.cpu_seconds = time.process_time() - cpu
                    cpu = time.process_time()
                else:
                    raise ValueError(f"unknown command {command!r}")
            except Exception:
                connection.send(("error", traceback.format_exc()))
            else:
                connection.send(("ok", answer))
        db.session.remove()
        db.engine.dispose()


class ShardedSimulation:
    """LifecycleSimulation's run (`apply`, `run_until`, `take_figures`) over `workers`
    processes. Use as a context manager: the workers stop at the end."""

    def __init__(
        self, app, people: People, *, workers: int, suspend_every: int = 0, floor: bool = False
    ) -> None:
        self.app = app
        self.clock = app.extensions["certflow.clock"]
        self.engine = app.extensions["certflow.engine"]
        self.on_clock: Callable[[datetime], None] = lambda _now: None
        self.figures = Figures()  # the coordinator's own: clock moves
        self.tasks_by_worker: list[int] = []  # at the last take_figures
        self._coordinator = LifecycleSimulation(app, people, Path(app.instance_path) / "uploads")
        config = {
            key: app.config[key]
            for key in (
                "SECRET_KEY",
                "SQLALCHEMY_DATABASE_URI",
                "CERTFLOW_CLOCK",
                "CERTFLOW_SCHEDULER",
            )
        }
        options = {
            "suspend_every": suspend_every,
            "floor": floor,
            "logging_disabled": logging.root.manager.disable,
        }
        context = multiprocessing.get_context("spawn")  # a fresh app, no inherited connections
        self._connections = []
        self._processes = []
        for _ in range(workers):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_serve,
                args=(theirs, config, app.instance_path, people, dict(options)),
                daemon=True,
            )
            process.start()
            theirs.close()
            self._connections.append(ours)
            self._processes.append(process)

    def __enter__(self) -> "ShardedSimulation":
        return self

    def __exit__(self, *exc) -> None:
        for connection in self._connections:
            with contextlib.suppress(OSError):  # a worker that already ended
                connection.send(("stop", None))
        for process in self._processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()

    def _all(self, command: str, arguments: list[Any] | None = None) -> list[Any]:
        """Send the command to every worker (each its own argument), wait for every answer."""
        for index, connection in enumerate(self._connections):
            connection.send((command, None if arguments is None else arguments[index]))
        answers = []
        for connection in self._connections:
            status, answer = connection.recv()
            if status == "error":
                raise WorkerFailed(answer)
            answers.append(answer)
        return answers

    # -- the run -----------------------------------------------------------------------------
    def apply(self, count: int) -> None:
        """Clients 1 … count apply today; worker i applies for serials i + 1, i + 1 + n, …"""
        self._coordinator.extend_registrations()
        workers = len(self._connections)
        shares = [list(range(1 + index, count + 1, workers)) for index in range(workers)]
        self._all("apply", shares)
        self.figures.certificates += count

    def run_until(self, end: datetime) -> None:
        """As LifecycleSimulation.run_until: the workers answer what is due; the clock moves to
        the next due timer or step; the workers sweep; until `end`."""
        while True:
            steps = [moment for moment in self._all("work") if moment is not None]
            db.session.rollback()  # the workers' commits
            upcoming = [m for m in [self.engine.next_timer_due(), *steps] if m is not None]
            if not upcoming or min(upcoming) > end:
                break
            self.travel_to(min(upcoming))
        self.travel_to(end)
        self._all("work")

    def travel_to(self, moment: datetime) -> None:
        db.session.rollback()
        if moment > self.clock.now():
            self.clock.set(moment)
        self.figures.wake_ups += 1
        self._all("sweep")
        self.on_clock(self.clock.now())

    def take_figures(self) -> Figures:
        """The workers' figures added up (since the start or the last call), with the clock
        moves; counting starts again."""
        figures = Figures(wake_ups=self.figures.wake_ups, certificates=self.figures.certificates)
        workers = self._all("figures")
        self.tasks_by_worker = [worker.tasks_completed for worker in workers]
        for worker in workers:
            worker.certificates = 0  # counted once, here
            figures.add(worker)
        self.figures = Figures(certificates=self.figures.certificates)
        return figures

    # -- as LifecycleSimulation --------------------------------------------------------------
    def today(self) -> date:
        return self.clock.now().astimezone(CHINA_TZ).date()

    at = staticmethod(LifecycleSimulation.at)
