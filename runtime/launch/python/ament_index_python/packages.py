"""Kestrel launch shim: ament_index_python.packages (see kestrel_shim.py)."""
from kestrel_shim import unsupported_module
from kestrel_shim import get_package_share_directory, get_package_prefix, PackageNotFoundError  # noqa: F401

__getattr__ = unsupported_module('ament_index_python.packages', 'get_package_share_directory get_package_prefix PackageNotFoundError'.split())
