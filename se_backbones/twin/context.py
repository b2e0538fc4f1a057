"""What every rule reads: the base config (plain dicts), its toolkit and the target, and the
values derived from them (the base backbone's settings, the widths before and after)."""

from typing import NamedTuple

from ..weights.timm_archs import backbone_cfg_from_timm, resnet_widths, stage_widths
from .base import effective_backbone
from .weights import Target


class Context(NamedTuple):
    """The input of every rule: ``cfg`` (the base config as plain dicts), ``scope`` (its
    toolkit), ``target`` (a :class:`~se_backbones.twin.weights.Target`) and ``base`` (its
    name, for messages)."""

    cfg: dict
    scope: str
    target: Target
    base: str = 'base.py'

    @property
    def model(self):
        return self.cfg['model']

    @property
    def backbone(self):
        """The base's ``model.backbone`` as written."""
        return self.model['backbone']

    def old_backbone(self):
        """``(type, settings)`` of the base backbone, class defaults filled in."""
        return effective_backbone(self.scope, self.backbone)

    def target_cfg(self):
        """The target's backbone config (``backbone_cfg_from_timm``)."""
        return backbone_cfg_from_timm(self.target.timm_arch)

    def widths(self):
        """``(old, new, stages)``: the backbone widths at its ``out_indices``, before and
        after, and the base's widths at every stage."""
        _, old = self.old_backbone()
        num_stages = old.get('num_stages', 4)
        before = resnet_widths(
            old['depth'], old.get('base_channels', 64), old.get('expansion'), num_stages
        )
        after = stage_widths(self.target.timm_arch, num_stages)
        indices = old['out_indices']
        indices = [indices] if isinstance(indices, int) else list(indices)
        return [before[i] for i in indices], [after[i] for i in indices], before


def context(model, scope='mmdet', arch='se_r18', model_name=None, checkpoint=None, **top):
    """A Context for a model dict (the rules' unit tests, and examples).

    Example:
        >>> ctx = context(dict(backbone=dict(type='ResNet', depth=50)))
        >>> ctx.widths()[:2]
        ([256, 512, 1024, 2048], [64, 128, 256, 512])
    """
    from .archs import resolve_arch

    target = Target(arch, resolve_arch(arch), model_name, checkpoint)
    return Context(dict(top, model=model), scope, target)
