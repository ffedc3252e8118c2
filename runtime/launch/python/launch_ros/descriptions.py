"""Kestrel launch shim: launch_ros.descriptions (see kestrel_shim.py)."""
from kestrel_shim import unsupported_module
from kestrel_shim import ComposableNode, ParameterValue, ParameterFile  # noqa: F401

__getattr__ = unsupported_module('launch_ros.descriptions', 'ComposableNode ParameterValue ParameterFile'.split())
