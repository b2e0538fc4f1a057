from .senet import SENet154, SENetBottleneck
from .seresnet import SEBasicBlock, SEBottleneck, SEResNet
from .seresnext import SEResNeXt, SEResNeXtBottleneck

__all__ = ['SEBasicBlock', 'SEBottleneck', 'SENet154', 'SENetBottleneck', 'SEResNet',
           'SEResNeXt', 'SEResNeXtBottleneck']
