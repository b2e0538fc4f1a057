"""Squeeze-and-Excitation backbones for the OpenMMLab toolkits (mmdet, mmseg, mmpretrain).

Import it from a config with ``custom_imports=dict(imports=['se_backbones'])`` and name the
backbone ``type='se_backbones.SEResNet'`` (or ``SEResNeXt``, ``SENet154``).
"""
from .backbones import SENet154, SEResNet, SEResNeXt
from .hooks import RNGStateHook
from .layers import ECALayer, SELayer, SEPlugin, make_divisible
from .registry import HOOKS, MODELS, WEIGHT_INITIALIZERS
from .weights import (TIMM_ARCHS, TimmPretrained, backbone_cfg_from_timm,
                      convert_timm_state_dict, load_state_dict_file)

__version__ = '0.1.0'
__all__ = [
    'ECALayer', 'HOOKS', 'MODELS', 'RNGStateHook', 'SELayer', 'SENet154', 'SEPlugin',
    'SEResNeXt', 'SEResNet', 'TIMM_ARCHS', 'TimmPretrained', 'WEIGHT_INITIALIZERS',
    'backbone_cfg_from_timm', 'convert_timm_state_dict', 'load_state_dict_file',
    'make_divisible'
]
