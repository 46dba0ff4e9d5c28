"""The models behind the tools, each loaded lazily, once per process."""
