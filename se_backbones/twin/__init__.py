"""Turn a toolkit config with a ResNet backbone into its SE twin: the same model, schedule and
data with an SE backbone of ours and ImageNet SE weights from timm.

:func:`make_se_config` writes a config that inherits the base (``_base_ = BASE``) and replaces
its backbone (``_delete_=True``). The twin is made by small rules (:mod:`.rules_backbone`,
:mod:`.rules_init`, :mod:`.rules_model`, :mod:`.widths`), each a function of the base config
that returns :class:`Change` s with their reasons; what cannot be mapped raises
:class:`TwinError` naming why (also an instance of the type the toolkit raises for the same
mistake, where it differs), before anything is written. ``tools/make_se_config.py`` is its
command line.
"""

from .archs import ARCHS, arch_of_timm, arch_table, timm_weights
from .changes import Change, Twin, TwinError
from .make import RULES, make_se_config
from .render import fmt

__all__ = [
    'ARCHS',
    'RULES',
    'Change',
    'Twin',
    'TwinError',
    'arch_of_timm',
    'arch_table',
    'fmt',
    'make_se_config',
    'timm_weights',
]
