"""Kestrel launch shim: launch (see kestrel_shim.py)."""
from kestrel_shim import unsupported_module
from kestrel_shim import LaunchDescription, LaunchContext, Substitution, Action, Condition  # noqa: F401
from . import actions, conditions, launch_description_sources, substitutions  # noqa: F401

__getattr__ = unsupported_module('launch', ['LaunchDescription', 'LaunchContext', 'Substitution', 'Action', 'Condition', 'actions', 'conditions', 'launch_description_sources', 'substitutions'])
