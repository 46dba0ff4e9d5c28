"""The agent: the domain model, the LangGraph loop, the command line and the Python API.

Importing this package loads no model; ``agent.api`` builds the graph on first use.
"""
