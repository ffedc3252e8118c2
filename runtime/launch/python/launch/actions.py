"""Kestrel launch shim: launch.actions (see kestrel_shim.py)."""
from kestrel_shim import unsupported_module
from kestrel_shim import DeclareLaunchArgument, SetLaunchConfiguration, LogInfo, SetEnvironmentVariable, UnsetEnvironmentVariable, GroupAction, IncludeLaunchDescription, ExecuteProcess, OpaqueFunction  # noqa: F401

__getattr__ = unsupported_module('launch.actions', 'DeclareLaunchArgument SetLaunchConfiguration LogInfo SetEnvironmentVariable UnsetEnvironmentVariable GroupAction IncludeLaunchDescription ExecuteProcess OpaqueFunction'.split())
