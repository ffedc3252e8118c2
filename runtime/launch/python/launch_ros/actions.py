"""Kestrel launch shim: launch_ros.actions (see kestrel_shim.py)."""
from kestrel_shim import unsupported_module
from kestrel_shim import Node, ComposableNodeContainer, LoadComposableNodes, PushRosNamespace, PushROSNamespace, SetParameter, SetRemap  # noqa: F401

__getattr__ = unsupported_module('launch_ros.actions', 'Node ComposableNodeContainer LoadComposableNodes PushRosNamespace PushROSNamespace SetParameter SetRemap'.split())
