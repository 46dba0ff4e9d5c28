"""``muie mcp``: muie as tools and resources of an MCP server (``agent.mcp.server``)."""
