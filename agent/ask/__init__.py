"""Questions about media, answered from kept results, as conversations."""
