"""Webex sink for the Hybrid Calendar gateway: meetings for ``@webex``, meetings lists,
Join buttons and presence delivered to Webex apps and devices."""
