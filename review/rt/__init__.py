"""Talking to Request Tracker: the REST2 connection and the snapshot pull."""
