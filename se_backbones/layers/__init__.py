from .make_divisible import make_divisible
from .scale_add_relu import scale_add_relu
from .se_layer import SELayer

__all__ = ['SELayer', 'make_divisible', 'scale_add_relu']
