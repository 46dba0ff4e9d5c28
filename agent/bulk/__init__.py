"""Batches: many items (a JSONL manifest or a folder) extracted by N workers on this
machine or on a Ray cluster, each worker building its agent once; resumable, failures
recorded per item, a summary at the end. ``muie batch`` is its command line."""

from muie.agent.bulk.batch import BatchInterrupted, run_batch
from muie.agent.bulk.items import Item, fingerprint, read_items
from muie.agent.bulk.summary import Summary

__all__ = ["BatchInterrupted", "Item", "Summary", "fingerprint", "read_items", "run_batch"]
