"""The backbone's weights: its ``init_cfg`` (the target's timm weights, or none) and a note
when the base freezes parts that may start untrained. Pure functions of a
:class:`~.context.Context` returning Changes."""

from .changes import Change
from .rules_backbone import WHERE, kept_values, our_defaults


def init(ctx):
    """``init_cfg``: TimmPretrained of the target's weights (a local file, or timm's with
    ``missing_ok``), or None untrained."""
    t, explicit = ctx.target, ctx.backbone
    if not t.pretrained:
        new, reason = None, 'no weights for arch alone: the backbone starts untrained'
    else:
        new = dict(type='se_backbones.TimmPretrained', model_name=t.model_name)
        if t.checkpoint:
            new['checkpoint'], reason = t.checkpoint, f'{t.model_name} weights from the local file'
        else:
            new['missing_ok'], reason = (
                True,
                (
                    'ImageNet SE weights from timm; missing_ok: '
                    'offline, training continues from the default '
                    'init (logged)'
                ),
            )
    changes = [Change(f'{WHERE}.init_cfg', explicit.get('init_cfg'), new, reason)]
    if explicit.get('pretrained'):
        changes.append(
            Change(
                f'{WHERE}.pretrained',
                explicit['pretrained'],
                None,
                'plain-ResNet weights; init_cfg takes over',
                write=False,
            )
        )
    return changes


def frozen_note(ctx):
    """A note when the base freezes parts of the backbone that may start untrained."""
    t = ctx.target
    if t.checkpoint:
        return []
    a = dict(our_defaults(ctx), **kept_values(ctx))
    norm = a.get('norm_cfg') or {}
    frozen = [
        (f'frozen_stages={a["frozen_stages"]}', 'frozen_stages=-1')
        if a.get('frozen_stages', -1) >= 0
        else None,
        ('norm_eval=True', 'norm_eval=False') if a.get('norm_eval') else None,
        ('norm_cfg.requires_grad=False', 'norm_cfg.requires_grad=True')
        if norm.get('requires_grad') is False
        else None,
    ]
    frozen = [f for f in frozen if f]
    if not frozen:
        return []
    what = ', '.join(f[0] for f in frozen)
    fix = ', '.join(f[1] for f in frozen)
    if not t.pretrained:
        return [
            Change.note(
                f'the base freezes parts of its backbone ({what}), settings made for '
                'pretrained weights: untrained, those parts keep their random init '
                f'(set {fix} to train them)'
            )
        ]
    return [
        Change.note(
            f'the base freezes parts of its backbone ({what}): if timm cannot provide '
            'the weights (offline, not cached), missing_ok trains on from random '
            'init with those parts frozen; pass the weights file with '
            f'checkpoint=PATH, or set {fix}'
        )
    ]
