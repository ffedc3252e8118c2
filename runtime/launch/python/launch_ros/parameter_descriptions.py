"""Kestrel launch shim: launch_ros.parameter_descriptions (see kestrel_shim.py)."""
from kestrel_shim import unsupported_module
from kestrel_shim import ParameterValue, ParameterFile  # noqa: F401

__getattr__ = unsupported_module('launch_ros.parameter_descriptions', 'ParameterValue ParameterFile'.split())
