"""Choosing the twin's weights: the architecture and timm weights that ``arch``, ``timm`` and
``checkpoint`` name, and a checkpoint file checked against that architecture."""

import os.path as osp
import warnings
from typing import NamedTuple

from ..weights.timm_archs import TIMM_ARCHS
from .archs import ARCHS, arch_of_timm, describe, resolve_arch, similar_with_weights, timm_weights
from .changes import TwinError

CHOOSE = (
    'give timm=NAME (the weights; it implies the architecture) or arch=ARCH (an '
    'untrained backbone, or with checkpoint=PATH a local timm file); see arch_table()'
)


class Target(NamedTuple):
    """The twin's backbone: our ``arch`` name, its ``timm_arch``, the ``model_name`` for
    ``TimmPretrained`` (None: untrained) and a local ``checkpoint`` (absolute, or None)."""

    arch: str
    timm_arch: str
    model_name: str = None
    checkpoint: str = None

    @property
    def pretrained(self):
        return self.model_name is not None


def choose_target(arch=None, timm=None, checkpoint=None):
    """``(Target, notes)`` for the library's arguments; a TwinError naming the argument that
    does not choose a backbone, or a checkpoint that is not the chosen architecture's.

    Example:
        >>> target, notes = choose_target(timm='legacy_seresnet18.in1k')
        >>> target.arch, target.timm_arch, target.checkpoint, notes
        ('legacy_se_r18', 'legacy_seresnet18', None, [])
    """
    if arch is None and timm is None:
        raise TwinError(CHOOSE)
    if timm is not None:
        try:
            from_name = arch_of_timm(timm)
        except (ValueError, TypeError) as error:
            raise TwinError(
                f'timm={timm}: not an SE architecture se_backbones reproduces; see '
                'arch_table() for the names'
            ) from error
        if arch is not None and resolve_arch(arch) and arch != from_name:
            raise TwinError(
                f'arch={arch} and timm={timm} disagree: {timm} has the architecture '
                f'{from_name} ({describe(ARCHS[from_name])}), {arch} is '
                f'{describe(ARCHS[arch])}; drop arch={arch}, it follows from timm={timm}'
            )
        arch = from_name
    timm_arch = resolve_arch(arch)
    if checkpoint is not None:
        if not osp.isfile(checkpoint):
            raise TwinError(f'checkpoint={checkpoint!r} does not exist')
        checkpoint = osp.abspath(checkpoint)
        check_checkpoint(checkpoint, timm_arch, timm or arch)
    target, notes = weights_for(arch, timm_arch, timm, checkpoint)
    return target, notes


def weights_for(arch, timm_arch, timm, checkpoint):
    weights = timm_weights()[timm_arch]
    if timm is None and checkpoint is None:
        note = f'arch={arch} alone: the backbone starts UNTRAINED (init_cfg=None); ' + (
            f'timm weights of this architecture: {", ".join(weights)} (timm=NAME)'
            if weights
            else f'timm has no ImageNet weights for {timm_arch}' + similar_with_weights(arch)
        )
        return Target(arch, timm_arch), [note]
    if timm is None or checkpoint is not None:
        return Target(arch, timm_arch, timm or timm_arch, checkpoint), []
    if '.' in timm:
        if timm not in weights:
            raise TwinError(
                f'timm={timm}: timm has no such pretrained tag; its tags for '
                f'{timm_arch}: {", ".join(weights) or "none"}'
            )
        return Target(arch, timm_arch, timm), []
    if not weights:
        raise TwinError(
            f'timm={timm}: timm has no ImageNet weights for {timm_arch} (its '
            f'pretrained_cfg is untrained){similar_with_weights(arch)}; arch={arch} '
            'starts untrained, checkpoint=PATH loads a local file'
        )
    return Target(arch, timm_arch, weights[0]), [
        f"timm={timm}: timm's default weights {weights[0]}"
    ]


def fits(state_dict, timm_arch):
    """Whether a timm state dict has exactly the tensors (names, shapes) of ``timm_arch``."""
    from ..weights.convert import convert_timm_state_dict

    try:
        convert_timm_state_dict(timm_arch, state_dict)
    except ValueError:
        return False
    return True


def check_checkpoint(path, timm_arch, chosen):
    """Read ``path`` as the loader does (tensors only) and match it against ``timm_arch``;
    a TwinError naming what the file seems to be if it does not fit."""
    from ..weights.files import load_state_dict_file

    try:
        with warnings.catch_warnings():  # torch 2.1 warns of its own storages on reading
            warnings.filterwarnings('ignore', 'TypedStorage is deprecated')
            state_dict = load_state_dict_file(path)
    except ValueError as error:
        raise TwinError(f'checkpoint={path!r}: {" ".join(str(error).split())[:300]}') from None
    if fits(state_dict, timm_arch):
        return
    seems = [arch for arch in TIMM_ARCHS if arch != timm_arch and fits(state_dict, arch)]
    if seems:
        what = (
            f'it seems to be {" or ".join(seems)} (timm={seems[0]} or '
            f'arch={arch_of_timm(seems[0])})'
        )
    else:
        what = (
            f'it fits none of the SE architectures se_backbones reproduces '
            f'({len(state_dict)} tensors, first {next(iter(state_dict), "none")!r})'
        )
    raise TwinError(
        f'checkpoint={path!r} is not a {timm_arch} state dict, the architecture of {chosen}: {what}'
    )
