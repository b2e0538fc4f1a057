"""timm SE-ResNet state dicts to se_backbones keys, checked against the target architecture."""

import functools
import logging
import re

import torch

from ..registry import MODELS
from .timm_archs import backbone_cfg_from_timm, timm_arch, timm_stem

# timm's SE and ECA keys (its legacy SENet's: se_module), found anywhere in a key; no key of
# ours matches (ours are se_layer.*): what the SE rules below map
TIMM_SE_KEY = re.compile(r'(?:^|\.)layer\d+\.\d+\.(?:se|se_module)\.(?:fc[12]|conv)\.')
# Block keys shared by timm's ResNet and its legacy SENet; the rest is kept as it is.
_BLOCK_RULES = [
    (r'^(layer\d+\.\d+\.)(?:se|se_module)\.fc([12])\.', r'\1se_layer.conv\2.conv.'),
    (r'^(layer\d+\.\d+\.)se\.conv\.weight$', r'\1se_layer.conv.weight'),  # ECA
    (r'^(layer\d+\.\d+\.(?:conv[123]|bn[123]|downsample\.\d+)\.)', r'\1'),
]
_STEM_RULES = {
    'plain': [(r'^(conv1|bn1)\.', r'\1.')],
    # timm's deep stem is conv1.{0,1,3,4,6} + bn1; mmdet's is stem.{0,1,3,4,6,7}
    'deep': [(r'^conv1\.([01346])\.', r'stem.\1.'), (r'^bn1\.', 'stem.7.')],
    'legacy': [(r'^layer0\.(conv1|bn1)\.', r'\1.')],
    # SENet-154's 3-conv stem: layer0.{conv,bn}{1,2,3} -> stem.{0,1,3,4,6,7}
    'legacy_deep': [
        (r'^layer0\.conv1\.', 'stem.0.'),
        (r'^layer0\.bn1\.', 'stem.1.'),
        (r'^layer0\.conv2\.', 'stem.3.'),
        (r'^layer0\.bn2\.', 'stem.4.'),
        (r'^layer0\.conv3\.', 'stem.6.'),
        (r'^layer0\.bn3\.', 'stem.7.'),
    ],
}
_CLASSIFIER = re.compile(r'^(?:fc|last_linear)\.')


@functools.lru_cache(maxsize=None)
def reference_backbone(arch):
    """The backbone of a supported timm architecture, built on the meta device (no memory):
    the keys and shapes a conversion must produce. Built by name through the registry, so
    this package imports no backbone module (the backbones import it for ``timm://``)."""
    with torch.device('meta'):
        return MODELS.build(backbone_cfg_from_timm(arch))


def listing(items, limit=8):
    """``a, b, c`` or ``a, b, ... (+N more)`` for error messages."""
    items = list(items)
    more = f', ... (+{len(items) - limit} more)' if len(items) > limit else ''
    return ', '.join(items[:limit]) + more


def check_state_dict(expected, state_dict, what, strict=True):
    """Compare ``state_dict`` with the ``expected`` keys and shapes. Strict: raise one
    ValueError naming the missing, unexpected and mis-shaped keys, if any. Not strict: return
    the loadable part and a sentence naming what it skips (None if nothing)."""
    shapes = {k: tuple(v.shape) for k, v in expected.items()}
    problems = []
    missing = [k for k in shapes if k not in state_dict]
    unexpected = [k for k in state_dict if k not in shapes]
    mismatched = [
        f'{k} {tuple(v.shape)} vs {shapes[k]}'
        for k, v in state_dict.items()
        if k in shapes and tuple(v.shape) != shapes[k]
    ]
    for label, keys in (
        ('missing keys', missing),
        ('unexpected keys', unexpected),
        ('shape mismatches (checkpoint vs model)', mismatched),
    ):
        if keys:
            problems.append(f'{len(keys)} {label}: {listing(keys)}')
    report = f'{what}: ' + '; '.join(problems) if problems else None
    if strict and problems:
        raise ValueError(report)
    loadable = {k: v for k, v in state_dict.items() if k in shapes and tuple(v.shape) == shapes[k]}
    return loadable, report


def not_timm(keys):
    """What unmapped keys are when they are not timm's: a whole model's (under ``backbone.``,
    e.g. an MMEngine checkpoint), or ours (``se_layer``): how to load such a file; else ''.

    Example:
        >>> not_timm(['backbone.conv1.weight', 'neck.lateral_convs.0.conv.weight']).split(':')[0]
        " (a whole model's keys, under 'backbone.'"
    """
    if any(k.startswith('backbone.') for k in keys):
        return (
            " (a whole model's keys, under 'backbone.': load the file with "
            "init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.'))"
        )
    if any('.se_layer.' in k for k in keys):
        return (
            " (se_backbones' own keys: load the file with "
            "init_cfg=dict(type='Pretrained', checkpoint=...))"
        )
    return ''


def convert_timm_state_dict(model_name, state_dict, with_classifier=False, strict=True):
    """Convert a timm SE-ResNet / SE-ResNeXt state dict to our backbone's keys.

    ``se.fc1/fc2`` (legacy: ``se_module.fc1/fc2``) become ``se_layer.conv1/conv2.conv``, the
    deep stem ``conv1.N``/``bn1`` becomes ``stem.N``, legacy ``layer0.*`` becomes the stem.
    The result is checked against the architecture of :func:`backbone_cfg_from_timm`.

    Args:
        model_name (str): The timm name, with or without a pretrained tag.
        state_dict (dict[str, Tensor]): The timm model's state dict.
        with_classifier (bool): Also convert ``fc``/``last_linear`` and return the keys of an
            mmpretrain ``ImageClassifier`` (``backbone.*`` and ``head.fc.*``). Default: False,
            which drops the classifier.
        strict (bool): Raise on any unmapped, missing, unexpected or mis-shaped key. False:
            keep the keys that fit, and log a warning naming the ones skipped or missing.
            Default: True.

    Returns:
        dict[str, Tensor]: The converted state dict.

    Raises:
        ValueError: listing the timm keys no rule maps, and the missing, unexpected or
            mis-shaped keys against the target architecture.

    Example:
        >>> import timm
        >>> sd = timm.create_model('seresnet18', pretrained=False).state_dict()
        >>> converted = convert_timm_state_dict('seresnet18.a1_in1k', sd)
        >>> converted['layer1.0.se_layer.conv1.conv.weight'].shape
        torch.Size([8, 64, 1, 1])
    """
    arch = timm_arch(model_name)
    stem = timm_stem(arch)
    rules = _STEM_RULES[stem] + _BLOCK_RULES
    converted, classifier, unmapped = {}, {}, []
    for key, value in state_dict.items():
        if _CLASSIFIER.match(key):
            classifier[_CLASSIFIER.sub('head.fc.', key)] = value
            continue
        for pattern, replacement in rules:
            new_key, found = re.subn(pattern, replacement, key)
            if found:
                converted[new_key] = value
                break
        else:
            unmapped.append(key)
    problems = (
        [f'{len(unmapped)} timm keys have no mapping: {listing(unmapped)}{not_timm(unmapped)}']
        if unmapped
        else []
    )
    if strict and problems:
        raise ValueError(f'{model_name}: {problems[0]}')
    converted, report = check_state_dict(
        reference_backbone(arch).state_dict(),
        converted,
        f'{model_name}: the converted state dict does not fit the architecture',
        strict,
    )
    if report or problems:
        from mmengine.logging import print_log

        print_log(
            f'partial load (strict=False) of {model_name}, skipped: '
            + '; '.join(problems + [report] if report else problems),
            logger='current',
            level=logging.WARNING,
        )
    if not with_classifier:
        return converted
    if set(classifier) != {'head.fc.weight', 'head.fc.bias'}:
        raise ValueError(
            f'{model_name}: with_classifier needs fc (or last_linear) weight and '
            f'bias, found {listing(classifier) or "none"}'
        )
    return {**{f'backbone.{k}': v for k, v in converted.items()}, **classifier}
