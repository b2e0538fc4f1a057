from .make_divisible import make_divisible
from .se_layer import SELayer

__all__ = ['SELayer', 'make_divisible']
