"""Media files in: images, audio and video decoded, their damage noted."""
