"""The image tools: words read, things detected, regions proposed, segmented and linked."""
