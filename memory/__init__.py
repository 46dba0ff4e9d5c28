"""Memory: stored runs, results and tool-result caches (see the project's issues)."""
