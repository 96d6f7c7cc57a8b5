"""Join information: keyword scheduling, join-link detection and invite rendering."""
