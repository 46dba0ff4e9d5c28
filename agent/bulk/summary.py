"""What a batch run did: counts, timings and its workers, as ``summary.json`` and a table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass
class Summary:
    """One run of a batch. ``items_per_s`` counts the items extracted in this run over
    ``work_seconds``, from every worker ready (``load_seconds``: its models loaded) to the
    last result written; ``seconds`` is the whole run, stopping the workers included."""

    source: str
    out: str
    engine: str
    workers: int
    items: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0
    load_seconds: float = 0.0
    work_seconds: float = 0.0
    items_per_s: float = 0.0
    entities: int = 0
    relations: int = 0
    events: int = 0
    interrupted: bool = False
    worker_stats: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("seconds", "load_seconds", "work_seconds", "items_per_s"):
            out[key] = round(out[key], 3)
        return out

    def table(self) -> Table:
        table = Table(title="muie batch" + (" (interrupted)" if self.interrupted else ""), title_justify="left",
                      show_header=False)
        table.add_column("what", style="bold")
        table.add_column("value", justify="right")
        rows = [
            ("source", self.source),
            ("output", self.out),
            ("engine", f"{self.engine}, {self.workers} worker(s)"),
            ("items", str(self.items)),
            ("done", str(self.done)),
            ("skipped (finished before)", str(self.skipped)),
            ("failed", str(self.failed)),
            ("seconds", f"{self.seconds:.1f}"),
            ("of which loading models", f"{self.load_seconds:.1f}"),
            ("of which extracting", f"{self.work_seconds:.1f}"),
            ("items/s (models loaded)", f"{self.items_per_s:.2f}"),
            ("entities found", str(self.entities)),
            ("relations found", str(self.relations)),
            ("events found", str(self.events)),
        ]
        for what, value in rows:
            table.add_row(what, value)
        return table

    def print(self, console: Console) -> None:
        console.print(self.table())
