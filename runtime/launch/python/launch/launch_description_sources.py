"""Kestrel launch shim: launch.launch_description_sources (see kestrel_shim.py)."""
from kestrel_shim import unsupported_module
from kestrel_shim import PythonLaunchDescriptionSource, XMLLaunchDescriptionSource, YAMLLaunchDescriptionSource, FrontendLaunchDescriptionSource, AnyLaunchDescriptionSource  # noqa: F401

__getattr__ = unsupported_module('launch.launch_description_sources', 'PythonLaunchDescriptionSource XMLLaunchDescriptionSource YAMLLaunchDescriptionSource FrontendLaunchDescriptionSource AnyLaunchDescriptionSource'.split())
