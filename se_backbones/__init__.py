"""Squeeze-and-Excitation backbones for the OpenMMLab toolkits (mmdet, mmseg, mmpretrain).

Import it from a config with ``custom_imports=dict(imports=['se_backbones'])`` and name the
backbone ``type='se_backbones.SEResNet'`` (or ``SEResNeXt``).
"""
from .backbones import SEResNet, SEResNeXt
from .layers import SELayer, make_divisible
from .registry import MODELS

__version__ = '0.1.0'
__all__ = ['MODELS', 'SELayer', 'SEResNeXt', 'SEResNet', 'make_divisible']
