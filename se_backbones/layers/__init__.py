from .attention import ChannelAttention
from .eca_layer import ECALayer, eca_kernel_size
from .make_divisible import make_divisible
from .scale_add_relu import scale_add_relu
from .se_layer import SELayer
from .se_plugin import SEPlugin
from .squeeze_gate import spatial_mean

__all__ = [
    'ChannelAttention',
    'ECALayer',
    'SELayer',
    'SEPlugin',
    'eca_kernel_size',
    'make_divisible',
    'scale_add_relu',
    'spatial_mean',
]
