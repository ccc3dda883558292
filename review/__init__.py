"""Incident analytics and post-incident reviews for problem response run in Request Tracker.

Data flows one way: RT -> raw snapshot (``snapshot``) -> events (``timeline``)
-> metrics (``metrics``) and findings -> notebooks and HTML.
"""

__version__ = "0.1.0"
