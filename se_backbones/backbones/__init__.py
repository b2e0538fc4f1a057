from .se_blocks import (
    SEBasicBlock,
    SEBlockMixin,
    SEBottleneck,
    SENetBottleneck,
    SEResNeXtBottleneck,
)
from .senet import SENet154
from .seresnet import SEResNet
from .seresnext import SEResNeXt

__all__ = [
    'SEBasicBlock',
    'SEBlockMixin',
    'SEBottleneck',
    'SENet154',
    'SENetBottleneck',
    'SEResNet',
    'SEResNeXt',
    'SEResNeXtBottleneck',
]
