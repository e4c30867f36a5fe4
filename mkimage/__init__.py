"""Offline image builder: assembles llmos from Debian packages and PyPI on the host."""
