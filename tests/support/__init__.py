"""Helpers the tests share: the command line, real servers, media and the source tree."""
