"""The client drivers run inside the clients' own virtual environments, never in the project's: not collected."""

collect_ignore_glob = ["drive_*.py"]
