"""The audio tools: speech, voice activity, sound events, where a target is heard."""
