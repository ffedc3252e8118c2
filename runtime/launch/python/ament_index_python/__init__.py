"""Kestrel launch shim: ament_index_python (see kestrel_shim.py)."""
from kestrel_shim import get_package_share_directory, get_package_prefix, PackageNotFoundError  # noqa: F401
from . import packages  # noqa: F401
