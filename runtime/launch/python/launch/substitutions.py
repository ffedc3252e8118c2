"""Kestrel launch shim: launch.substitutions (see kestrel_shim.py)."""
from kestrel_shim import unsupported_module
from kestrel_shim import TextSubstitution, LaunchConfiguration, EnvironmentVariable, PathJoinSubstitution, PythonExpression, NotSubstitution, EqualsSubstitution, ThisLaunchFileDir, ThisLaunchFile  # noqa: F401

__getattr__ = unsupported_module('launch.substitutions', 'TextSubstitution LaunchConfiguration EnvironmentVariable PathJoinSubstitution PythonExpression NotSubstitution EqualsSubstitution ThisLaunchFileDir ThisLaunchFile'.split())
