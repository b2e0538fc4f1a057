""":func:`make_se_config`: the rules run on the base config, in order."""

import os.path as osp

from . import rules_backbone, rules_init, rules_model
from .base import load_base, toolkit_of
from .changes import Change, Twin, TwinError, plain
from .context import Context
from .render import base_reference, render, write_checked
from .weights import choose_target
from .widths import widths

#: The rules, in the order their changes are reported: each maps a Context to Changes.
RULES = (
    rules_backbone.refuse_c4_layout,
    rules_backbone.architecture,
    rules_backbone.kept,
    rules_backbone.kept_fit_target,
    rules_init.init,
    rules_init.frozen_note,
    widths,
    rules_model.preprocessor,
    rules_model.plain_model_weights,
)


def check_out(base, out, overwrite):
    if not out.endswith('.py'):
        raise TwinError(f'out={out!r} must be a .py file (MMEngine reads configs by suffix)')
    if osp.exists(out) and not overwrite:
        raise TwinError(f'out={out!r} exists (overwrite=True replaces it)')
    if '::' not in base and osp.isfile(base) and osp.exists(out) and osp.samefile(base, out):
        raise TwinError('out is the base config itself')


def make_se_config(base, out=None, arch=None, timm=None, checkpoint=None, overwrite=False):
    """Write the SE twin of ``base`` to ``out`` and return a :class:`~.changes.Twin`.

    Args:
        base (str): The base config: a path or ``'mmdet::...'``, ``'mmseg::...'``,
            ``'mmpretrain::...'``.
        out (str, optional): Where to write the twin (``.py``); None: only compute it.
        arch (str, optional): Our architecture name (:data:`~.archs.ARCHS`), e.g. ``'se_r50'``.
        timm (str, optional): timm weights (``'seresnet50.a1_in1k'``; a name without tag takes
            timm's default weights); implies ``arch`` (both given: they must agree).
        checkpoint (str, optional): A local file of the timm model's state dict, checked
            against the architecture here.
        overwrite (bool): Replace an existing ``out``. Default: False.

    Raises:
        TwinError: naming what cannot be mapped; nothing is written then.

    Example:
        >>> twin = make_se_config('mmpretrain::resnet/resnet50_8xb32_in1k.py', arch='se_r18')
        >>> [(c.old, c.new) for c in twin.changes if c.key == 'model.head.in_channels']
        [(2048, 512)]
    """
    if out is not None:
        check_out(base, out, overwrite)
    target, notes = choose_target(arch, timm, checkpoint)
    cfg = load_base(base)
    scope = toolkit_of(cfg, base)
    model = cfg.get('model')
    if not isinstance(model, dict) or not isinstance(model.get('backbone'), dict):
        raise TwinError(
            f'base config {base!r} has no model.backbone dict (a wrapper model, '
            'e.g. a semi-supervised teacher/student, or a backbone set otherwise); '
            'not mapped'
        )
    ctx = Context({key: plain(cfg.get(key)) for key in cfg.keys()}, scope, target, base)
    items = [Change.note(n) for n in notes]
    for rule in RULES:
        items += rule(ctx)
    reference, base_notes = base_reference(base, out)
    text = render(ctx, items + base_notes, reference)
    twin = Twin(base, target.arch, target.model_name, items + base_notes, text)
    if out is not None:
        write_checked(text, out)
        twin.path = out
    return twin
