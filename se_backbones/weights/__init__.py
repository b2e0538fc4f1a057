from .convert import convert_timm_state_dict
from .files import allow_mmengine_checkpoints, load_state_dict_file, sha256_of
from .init import TimmPretrained, init_weights_then_timm, is_timm_init
from .timm_archs import TIMM_ARCHS, backbone_cfg_from_timm

__all__ = [
    'TIMM_ARCHS',
    'TimmPretrained',
    'allow_mmengine_checkpoints',
    'backbone_cfg_from_timm',
    'convert_timm_state_dict',
    'init_weights_then_timm',
    'is_timm_init',
    'load_state_dict_file',
    'sha256_of',
]
