"""Our architecture names (``se_r50``, ``se_x101_64x4d``, ``eca_r50d``, ``legacy_se_r101``:
timm's SE names shortened), the ImageNet weights timm has for each, and what the weights
decide (normalisation, stage widths, blocks)."""

import difflib
import functools

from ..weights.timm_archs import TIMM_ARCHS, backbone_cfg_from_timm, stage_widths, timm_arch
from .changes import TwinError


def arch_of_timm(name):
    """Our architecture name for a timm SE name (tag ignored).

    Example:
        >>> [arch_of_timm(n) for n in ('seresnet50.a1_in1k', 'seresnext101_64x4d',
        ...                            'legacy_seresnet101', 'ecaresnet50d', 'senet154')]
        ['se_r50', 'se_x101_64x4d', 'legacy_se_r101', 'eca_r50d', 'senet154']
    """
    arch = timm_arch(name)
    prefix = 'legacy_' if arch.startswith('legacy_') else ''
    rest = arch[len(prefix) :]
    for timm_stem, ours in (('seresnext', 'se_x'), ('seresnet', 'se_r'), ('ecaresnet', 'eca_r')):
        if rest.startswith(timm_stem):
            return prefix + ours + rest[len(timm_stem) :]
    return arch  # senet154, legacy_senet154


#: Our architecture name -> timm architecture (one for each of :data:`TIMM_ARCHS`).
ARCHS = {arch_of_timm(name): name for name in TIMM_ARCHS}


def resolve_arch(arch):
    """The timm architecture of one of our names; a TwinError with the closest names else.

    Example:
        >>> resolve_arch('se_x50_32x4d')
        'seresnext50_32x4d'
    """
    if arch in ARCHS:
        return ARCHS[arch]
    if arch in TIMM_ARCHS:
        hint = f" (that is timm's name: use arch={arch_of_timm(arch)}, or timm={arch})"
    else:
        close = difflib.get_close_matches(str(arch), ARCHS, n=3)
        hint = f' (did you mean {" or ".join(close)}?)' if close else ''
    raise TwinError(f'unknown architecture {arch!r}{hint}; known: {", ".join(ARCHS)}')


@functools.lru_cache(maxsize=None)
def timm_weights():
    """timm architecture -> its pretrained tags (``'seresnet50.a1_in1k'``, ...), read from
    timm's registry (no network); ``[]`` where timm has none (``seresnet18``: untrained)."""
    import timm

    tags = {arch: [] for arch in TIMM_ARCHS}
    for name in timm.list_pretrained():
        arch = name.split('.', 1)[0]
        if arch in tags:
            tags[arch].append(name)
    return tags


def describe(timm_name_arch):
    """``SEResNet(depth=50, style='caffe', ...)``: the backbone of a timm architecture.

    Example:
        >>> describe('seresnext50_32x4d')
        'SEResNeXt(depth=50, groups=32, base_width=4)'
    """
    cfg = backbone_cfg_from_timm(timm_name_arch)
    cls = cfg.pop('type').split('.')[-1]
    return f'{cls}({", ".join(f"{k}={v!r}" for k, v in cfg.items())})'


def arch_table():
    """Lines of a markdown table: each architecture, its backbone config and timm's weights."""
    weights = timm_weights()
    lines = [
        '| --arch | timm architecture | backbone | timm ImageNet weights (--timm) |',
        '|---|---|---|---|',
    ]
    for ours, arch in ARCHS.items():
        lines.append(
            f'| {ours} | {arch} | {describe(arch)} | '
            f'{", ".join(weights[arch]) or "none (untrained)"} |'
        )
    return lines


def similar_with_weights(arch):
    """``'; with weights at depth 18: legacy_se_r18 (legacy_seresnet18.in1k)'``: the
    architectures of the same depth that have timm weights."""
    weights = timm_weights()
    depth = backbone_cfg_from_timm(ARCHS[arch])['depth']
    same = [
        f'{a} ({weights[t][0]})'
        for a, t in ARCHS.items()
        if weights[t] and backbone_cfg_from_timm(t)['depth'] == depth
    ]
    return f'; with weights at depth {depth}: {", ".join(same)}' if same else ''


def with_widths(widths, limit=3):
    """Architectures with timm weights whose stages have ``widths`` (a hint for a base whose
    widths cannot be mapped downstream).

    Example:
        >>> with_widths([64, 128, 256, 512])
        'legacy_se_r18, legacy_se_r34'
    """
    weights = timm_weights()
    fits = [
        a for a, t in ARCHS.items() if weights[t] and stage_widths(t, len(widths)) == list(widths)
    ]
    return ', '.join(fits[:limit]) or 'none'


def normalisation(model_name):
    """mean, std (0-255, RGB) of timm's pretrained_cfg for ``model_name``.

    Example:
        >>> normalisation('seresnet50.a1_in1k')
        ([123.675, 116.28, 103.53], [58.395, 57.12, 57.375])
    """
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(model_name) or get_pretrained_cfg(timm_arch(model_name))
    if cfg is None:
        raise TwinError(f'timm has no pretrained_cfg for {model_name!r}')
    return ([round(v * 255, 4) for v in cfg.mean], [round(v * 255, 4) for v in cfg.std])


def blocks(timm_name_arch):
    """(class name, expansion, blocks per stage) of the backbone of a timm architecture.

    Example:
        >>> blocks('seresnet18'), blocks('legacy_senet154')
        (('SEResNet', 1, (2, 2, 2, 2)), ('SENet154', 4, (3, 8, 36, 3)))
    """
    from ..registry import MODELS

    cfg = backbone_cfg_from_timm(timm_name_arch)
    block, counts = MODELS.get(cfg['type']).arch_settings[cfg['depth']]
    return cfg['type'].split('.')[-1], block.expansion, tuple(counts)
