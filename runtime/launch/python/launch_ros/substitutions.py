"""Kestrel launch shim: launch_ros.substitutions (see kestrel_shim.py)."""
from kestrel_shim import unsupported_module
from kestrel_shim import FindPackageShare, FindPackagePrefix  # noqa: F401

__getattr__ = unsupported_module('launch_ros.substitutions', 'FindPackageShare FindPackagePrefix'.split())
