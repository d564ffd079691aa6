"""Scheduled jobs. Each module is a thin wrapper: open an app context, call a service."""
