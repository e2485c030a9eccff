"""Rules of the US pack.

The US has no rule of its own yet: it takes the common rules (``common.py``) and R10, an
acknowledgment relied on must be signed and in writing, which it shares with England & Wales
and which is therefore defined in ``ew.py``.
"""
