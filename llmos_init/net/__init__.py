"""Networking with no userland tools: DHCP (dhcp.py), ip= and the interface set-up
(config.py), and the `network` service that runs them after the prompt (service.py)."""
