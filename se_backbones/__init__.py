"""Squeeze-and-Excitation backbones for the OpenMMLab toolkits (mmdet, mmseg, mmpretrain).

Import it from a config with ``custom_imports=dict(imports=['se_backbones'])`` and name the
backbone ``type='se_backbones.SEResNet'`` (or ``SEResNeXt``, ``SENet154``).
"""

from .backbones import SENet154, SEResNet, SEResNeXt
from .engine import RNGStateHook
from .layers import ECALayer, SELayer, SEPlugin, make_divisible
from .registry import HOOKS, MODELS, WEIGHT_INITIALIZERS, register_bare_names
from .weights import (
    TIMM_ARCHS,
    TimmPretrained,
    allow_mmengine_checkpoints,
    backbone_cfg_from_timm,
    convert_timm_state_dict,
    load_state_dict_file,
)

__version__ = '0.1.0'

# MMEngine's checkpoints load under torch's weights_only default (torch >= 2.6), for the whole
# process: the toolkits' own tools/test.py and train.py --resume need it, and custom_imports
# runs only this import.
allow_mmengine_checkpoints()
# type='SEResNet' without the scope builds ours in mmdet and mmseg configs (mmpretrain has its own)
register_bare_names((SEResNet, SEResNeXt, SENet154))

__all__ = [
    'ECALayer',
    'HOOKS',
    'MODELS',
    'RNGStateHook',
    'SELayer',
    'SENet154',
    'SEPlugin',
    'SEResNeXt',
    'SEResNet',
    'TIMM_ARCHS',
    'TimmPretrained',
    'WEIGHT_INITIALIZERS',
    'allow_mmengine_checkpoints',
    'backbone_cfg_from_timm',
    'convert_timm_state_dict',
    'load_state_dict_file',
    'make_divisible',
]
