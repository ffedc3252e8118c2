"""Kestrel launch shim: launch.conditions (see kestrel_shim.py)."""
from kestrel_shim import unsupported_module
from kestrel_shim import IfCondition, UnlessCondition, LaunchConfigurationEquals, LaunchConfigurationNotEquals  # noqa: F401

__getattr__ = unsupported_module('launch.conditions', 'IfCondition UnlessCondition LaunchConfigurationEquals LaunchConfigurationNotEquals'.split())
