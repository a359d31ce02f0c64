"""Helpers that tests in more than one folder share: one copy each, imported from here.

- ``network``: a free loopback port for a real server or receiver
- ``records``: what the database holds, read afresh
- ``settings``: the settings with a few values changed (``settings_with``)
- ``answers``: answer sets (the check-in's; the audit's are still in tests/fixtures.py)
- ``results``: a result's parts that a test expects (its plan)
"""
