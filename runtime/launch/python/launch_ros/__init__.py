"""Kestrel launch shim: launch_ros (see kestrel_shim.py)."""
from kestrel_shim import unsupported_module
from . import actions, descriptions, parameter_descriptions, substitutions  # noqa: F401

__getattr__ = unsupported_module('launch_ros', ['actions', 'descriptions', 'parameter_descriptions', 'substitutions'])
