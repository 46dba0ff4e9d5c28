

def without_memory() -> None:
    """Each benchmark measures the tools themselves: no tool result kept from an earlier
    run is reused and no run is kept (``bench/memory_reuse.py`` measures the reuse)."""
    import os

    os.environ["MUIE_TOOL_CACHE"] = "false"
    os.environ["MUIE_STORE_RUNS"] = "false"
