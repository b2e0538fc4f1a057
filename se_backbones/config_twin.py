"""The SE twin moved to :mod:`se_backbones.twin`; this name stays for existing imports."""

from .twin import *  # noqa: F401,F403
from .twin import __all__  # noqa: F401
