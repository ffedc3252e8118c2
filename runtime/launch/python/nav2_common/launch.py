"""Kestrel launch shim: nav2_common.launch (see kestrel_shim.py)."""
from kestrel_shim import unsupported_module
from kestrel_shim import RewrittenYaml  # noqa: F401

__getattr__ = unsupported_module('nav2_common.launch', 'RewrittenYaml'.split())
