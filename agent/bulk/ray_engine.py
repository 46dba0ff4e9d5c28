"""The Ray engine: the same ``Worker`` as a Ray actor, one agent per actor, items handed
to idle actors one at a time.

Without an address a small local Ray is started (no dashboard, a small object store) and
shut down at the end; with one (``--address``: ``auto``, ``HOST:PORT`` or ``ray://...``)
the batch joins that cluster. A Ray already initialised in this process is used as it is.
Every actor must see the item's files at the same paths (one machine, or a shared file
system); results come back to this process, which alone writes the output folder. An
actor that dies fails its item and is replaced.
"""

from __future__ import annotations

import os
from typing import Any

from muie.agent.bulk.items import Item
from muie.agent.bulk.runner import WorkerError
from muie.agent.bulk.threads import machine_cores
from muie.agent.bulk.work import Outcome, Worker, WorkerConfig
from muie.errors import InputError

OBJECT_STORE_BYTES = 128 * 1024 * 1024
"""Object store of a local Ray: results are small, so little shared memory is kept."""


class RayEngine:
    """``workers`` Ray actors."""

    name = "ray"

    def __init__(self, workers: int, config: WorkerConfig, address: str | None = None) -> None:
        self.workers, self.config, self.address = workers, config, address
        self._actors: list[Any] = []
        self._idle: list[Any] = []
        self._busy: dict[Any, tuple[Any, Item]] = {}  # object ref -> (actor, item)
        self._connected = False  # this engine called ray.init, so it calls ray.shutdown
        self._actor_class: Any = None

    def start(self) -> None:
        """Start (or join) Ray, create the actors and wait until each has built its agent."""
        try:
            import ray
        except ImportError:
            raise InputError("--engine ray", "Ray is not installed: it is the ray extra "
                                             "(pip install 'muie[ray]')") from None

        if not ray.is_initialized():
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            kwargs: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
            if self.address:
                try:
                    ray.init(address=self.address, **kwargs)
                except (ConnectionError, RuntimeError, ray.exceptions.RayError) as e:
                    raise InputError(f"--address {self.address}", f"cannot join a Ray cluster there ({_cause(e)})"
                                     ) from None
            else:
                cpus = max(machine_cores(), self.workers * self.config.threads)
                ray.init(address="local", num_cpus=cpus, include_dashboard=False,  # a new one, never another's
                         object_store_memory=OBJECT_STORE_BYTES, **kwargs)
            self._connected = True
        self._actor_class = ray.remote(num_cpus=self.config.threads, max_restarts=0)(Worker)
        self._actors = [self._new_actor() for _ in range(self.workers)]
        try:
            ray.get([a.info.remote() for a in self._actors])
        except ray.exceptions.RayActorError as e:
            self.stop()
            raise WorkerError(f"a Ray actor could not start: {_cause(e)}") from None
        self._idle = list(self._actors)

    def slots(self) -> int:
        return len(self._idle)

    def submit(self, item: Item) -> None:
        actor = self._idle.pop()
        self._busy[actor.run.remote(item)] = (actor, item)

    def wait(self, timeout: float | None) -> list[Outcome]:
        import ray

        if not self._busy:
            return []
        ready, rest = ray.wait(list(self._busy), num_returns=1, timeout=timeout)
        if ready and rest:
            ready += ray.wait(rest, num_returns=len(rest), timeout=0)[0]
        out = []
        for ref in ready:
            actor, item = self._busy.pop(ref)
            try:
                out.append(ray.get(ref))
                self._idle.append(actor)
            except ray.exceptions.RayActorError as e:
                out.append(Outcome.failed(item, f"the Ray actor died while extracting it ({_cause(e)})"))
                self._replace(actor)
            except ray.exceptions.RayError as e:
                out.append(Outcome.failed(item, f"Ray: {_cause(e)}"))
                self._idle.append(actor)
        return out

    def stats(self) -> list[dict[str, Any]]:
        import ray

        live = []
        for actor in self._actors:
            try:
                live.append(ray.get(actor.info.remote(), timeout=30))
            except ray.exceptions.RayError:
                continue
        return live

    def stop(self) -> None:
        import ray

        for actor in self._actors:
            ray.kill(actor)
        self._actors, self._idle, self._busy = [], [], {}
        if self._connected:
            ray.shutdown()
            self._connected = False

    def _new_actor(self) -> Any:
        return self._actor_class.remote(self.config)

    def _replace(self, actor: Any) -> None:
        import ray

        self._actors.remove(actor)
        fresh = self._new_actor()
        try:
            ray.get(fresh.info.remote())
        except ray.exceptions.RayActorError as e:
            raise WorkerError(f"a Ray actor could not start: {_cause(e)}") from None
        self._actors.append(fresh)
        self._idle.append(fresh)


def _cause(e: Exception) -> str:
    return str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
