"""The video tools: a target tracked, words on screen, what a clip shows."""
