"""The sweep: every config shipped with the installed mmdet, mmseg and mmpretrain, twinned or
refused with a reason. ``python -m tests.twin.sweep`` prints the counts (docs/se_twin.md)."""

import collections
import importlib
import os
import re
import sys

from se_backbones.twin import TwinError, make_se_config
from se_backbones.twin.base import TOOLKITS, toolkit_root

TARGETS = ('seresnet50.a1_in1k', 'legacy_seresnet18.in1k')
# Backbone types of the ResNet family besides the four that map (their refusals count as the
# family's; other backbones are outside the sweep's question).
FAMILY = re.compile(
    r"type is '(mm\w+\.)?(ResNeSt|Res2Net|SEResNet|SEResNeXt|DetectoRS_ResNet|"
    r"DetectoRS_ResNeXt|TridentResNet|ResNet_CIFAR|ResNetV1c|ResNeXt|ResNet)'"
)


def shipped(package):
    """Names (``'mmdet::fcos/x.py'``) of the configs a toolkit ships, ``_base_`` fragments
    left out, sorted."""
    root = toolkit_root(package)
    if root is None:
        return []
    names = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in ('_base_', '__pycache__'))
        rel = os.path.relpath(folder, root)
        names += [
            f'{package}::{os.path.normpath(os.path.join(rel, f))}'
            for f in sorted(files)
            if f.endswith('.py')
        ]
    return names


def outcome(kind, message):
    """``(in the ResNet family, label)`` of one config's result, for the counts (a wrapper
    and a base that does not load here are counted outside: their backbone is not known)."""
    if kind == 'twin':
        return True, 'twinned'
    if re.search(r'not one of ResNet', message):
        return bool(FAMILY.search(message)), 'another backbone type'
    for pattern, label in (
        (r'already an SE model', 'already an SE model'),
        (r'no model.backbone dict', 'no model.backbone (a wrapper)'),
        (r'C4 layout', 'C4 layout'),
        (r"timm's weights", 'a layout timm weights lack'),
        (r'no counterpart', 'a backbone argument without counterpart'),
        (r'cannot load base', 'the base does not load'),
        (r'basic blocks|plugins must|stage_with_dcn must', 'DCN/plugins on basic blocks'),
        (r'multi_grid', 'multi_grid length'),
        (r'widths|in_channels|neck|head', 'widths not mapped downstream'),
    ):
        if re.search(pattern, message):
            return label not in ('no model.backbone (a wrapper)', 'the base does not load'), label
    return True, 'other: ' + message[:120]


def counts(results):
    """``(family, others)``: Counters of the outcomes in and outside the ResNet family."""
    family, others = collections.Counter(), collections.Counter()
    for kind, message in results.values():
        member, label = outcome(kind, message)
        (family if member else others)[label] += 1
    return family, others


def twin_all(names, timm, folder=None):
    """name -> ('twin', path) or ('refused', message); other exceptions propagate. Without
    ``folder`` the twins are only computed (not written, nor loaded again)."""
    results = {}
    for i, name in enumerate(names):
        out = os.path.join(folder, f'{i}.py') if folder else None
        try:
            make_se_config(name, out, timm=timm, overwrite=True)
            results[name] = ('twin', out)
        except TwinError as error:
            results[name] = ('refused', str(error))
    return results


def build_model(cfg, scope):
    """The model of a loaded config, built through its toolkit's registry (SyncBN as BN, the
    top-level data preprocessor of mmpretrain handed over as the Runner does)."""
    from mmengine.registry import DefaultScope

    from se_backbones.engine.runner import revert_sync_bn

    model_cfg = cfg.model
    if (
        scope == 'mmpretrain'
        and 'data_preprocessor' not in model_cfg
        and cfg.get('data_preprocessor')
    ):
        model_cfg = dict(
            model_cfg, data_preprocessor=dict(cfg.data_preprocessor, type='ClsDataPreprocessor')
        )
    revert_sync_bn(model_cfg)
    with DefaultScope.overwrite_default_scope(scope):
        return importlib.import_module(f'{scope}.registry').MODELS.build(model_cfg)


def build_and_forward(path, scope, size=256):
    """Build the twin at ``path`` through its toolkit's registry (SyncBN as BN) and run a
    forward on one ``size`` x ``size`` image; returns the model."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    model = build_model(Config.fromfile(path), scope).eval()
    with DefaultScope.overwrite_default_scope(scope):
        image = torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
        with torch.no_grad():
            if scope == 'mmpretrain':
                model(model.data_preprocessor(dict(inputs=[image]))['inputs'], mode='tensor')
            else:
                model(
                    **model.data_preprocessor(
                        dict(inputs=[image], data_samples=[sample(scope, size)]), False
                    ),
                    mode='predict',
                )
    return model


def sample(scope, size):
    """A data sample of the toolkit with an image's metainfo."""
    meta = dict(
        img_shape=(size, size),
        ori_shape=(size, size),
        scale_factor=(1.0, 1.0),
        img_id=0,
        pad_shape=(size, size),
        batch_input_shape=(size, size),
    )
    if scope == 'mmdet':
        from mmdet.structures import DetDataSample

        return DetDataSample(metainfo=meta)
    from mmseg.structures import SegDataSample

    return SegDataSample(metainfo=meta)


def main(packages=TOOLKITS, targets=TARGETS):
    """Print the counts of each toolkit and target (the twins computed, not written)."""
    for timm in targets:
        for package in packages:
            names = shipped(package)
            family, others = counts(twin_all(names, timm))
            print(
                f'{timm} {package}: {len(names)} configs; ResNet family '
                f'{sum(family.values())}: {dict(family.most_common())}; outside: '
                f'{dict(others.most_common())}',
                flush=True,
            )


if __name__ == '__main__':  # python -m tests.twin.sweep [mmdet|mmseg|mmpretrain] [timm name]
    sys.exit(main(*([a] for a in sys.argv[1:3])))
