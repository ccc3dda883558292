"""Incident analytics and post-incident reviews for problem response run in Request Tracker.

Data flows one way, and the subpackages are its stages: RT (``rt``) -> raw snapshot
(``snapshot``) -> events and metrics (``analysis``) and close-out findings (``closeout``)
-> the pipeline (``context``, cached by ``derive``) -> pages (``pages``) -> mail and RT
(``delivery``); ``cli`` on top. README.md's "How data flows" is the map (tests/test_layers.py).
"""

__version__ = "0.1.0"
