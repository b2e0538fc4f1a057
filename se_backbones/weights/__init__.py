from .convert import convert_timm_state_dict, load_state_dict_file
from .init import TimmPretrained
from .timm_archs import TIMM_ARCHS, backbone_cfg_from_timm

__all__ = ['TIMM_ARCHS', 'TimmPretrained', 'backbone_cfg_from_timm', 'convert_timm_state_dict',
           'load_state_dict_file']
