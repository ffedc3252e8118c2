"""Kestrel launch shim: nav2_common (see kestrel_shim.py)."""
from . import launch  # noqa: F401
