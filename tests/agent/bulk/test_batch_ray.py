"""``muie batch --engine ray --address ...`` on a local Ray cluster that the test starts:
every item extracted by two actors, each of which built its agent (and loaded its models)
once for all the items it ran."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.bulk.test_batch_cli import (
    TEXTS,
    batch,
    check_workers,
    jsonl,
    names,
    no_torn_files,
    result,
    summary,
    write_manifest,
)


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """A local Ray of 2 CPUs (no dashboard, a small object store), token-authenticated, as a
    cluster a batch joins by its address; shut down after the module."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_AUTH_MODE", "token")  # read when ray is imported; the batch, a child process, inherits it
        mp.setenv("RAY_AUTH_TOKEN", secrets.token_hex(32))
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        import ray

        context = ray.init(address="local", num_cpus=2, include_dashboard=False,
                           object_store_memory=128 * 1024 * 1024, log_to_driver=False, configure_logging=False)
        try:
            yield context.address_info["gcs_address"]
        finally:
            ray.shutdown()


def test_a_batch_on_a_ray_cluster_builds_one_agent_per_actor(tmp_path: Path, ray_address: str) -> None:
    ids = [f"doc{k}" for k in range(6)]
    write_manifest(tmp_path / "items.jsonl", [{"id": i, "text": t} for i, t in zip(ids, TEXTS)])
    run = batch("items.jsonl", "--out", "out", "--engine", "ray", "--address", ray_address, "--workers", "2",
                cwd=tmp_path)
    out = tmp_path / "out"

    assert run.rc == 0, run.stderr
    s = summary(out)
    assert (s["engine"], s["items"], s["done"], s["failed"], s["workers"]) == ("ray", 6, 6, 0, 2)
    check_workers(s["worker_stats"], workers=2, items=6)  # 6 items, 2 actors, 2 agents built
    assert all(w["threads"] == 1 for w in s["worker_stats"])  # 2 CPUs shared by 2 actors
    assert names(result(out, "doc0")).get("Marie Curie") == "person"
    assert names(result(out, "doc3")).get("Ada Lovelace") == "person"
    assert sorted(row["id"] for row in jsonl(out / "finished.jsonl")) == ids
    no_torn_files(out)
