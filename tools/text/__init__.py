"""The text tools: entities, relations and events in a chunk of text."""
