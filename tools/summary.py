"""Build SE-ResNet-50 / SE-ResNeXt-50 and their plain twins through mmdet's registry, the way an
mmdet config does (``custom_imports`` + ``type='se_backbones.SEResNet'``), and print their stage
shapes, parameters and FLOPs as a Markdown table.

    python tools/summary.py [--input-size 224] [--variants] [--json out.json]

``--variants`` adds the SE-ResNet-50 variants (SE position, squeeze, gate, ECA, SEPlugin,
SENet-154) with the papers' ImageNet figures beside the measured parameters and FLOPs.

FLOPs are MMEngine's counts for one image (fvcore rules: one multiply-add of a conv or linear
layer = one FLOP, adaptive pooling counts its inputs, eval-mode BN two per element, its scale
and shift; ReLU, sigmoid and element-wise products are not counted).
"""

import json
import logging
import os
import sys

if not __package__:  # run as a script: the repo root holds tools.cli
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools.cli import parser

CONFIG = """
custom_imports = dict(imports=['se_backbones'], allow_failed_imports=False)
models = {
    'ResNet-50': dict(type='ResNet', depth=50),
    'SE-ResNet-50': dict(type='se_backbones.SEResNet', depth=50),
    'ResNeXt-50 32x4d': dict(type='ResNeXt', depth=50, groups=32, base_width=4),
    'SE-ResNeXt-50 32x4d': dict(type='se_backbones.SEResNeXt', depth=50, groups=32, base_width=4),
}
"""
_PLUGIN = [dict(cfg=dict(type='se_backbones.SEPlugin', ratio=16), position='after_conv3')]
# name: (backbone config, the paper's figure). SENet paper (Hu et al., TPAMI): ImageNet top-1
# error of SE-ResNet-50 in its ablation setup (Tables 11, 12, 14, 15; ResNet-50: 23.30). ECA
# paper (Wang et al., CVPR 2020, Table 2): top-1 accuracy in its setup.
VARIANTS = {
    'ResNet-50': (dict(type='ResNet', depth=50), 'SENet: 23.30 err; ECA: 75.20 acc'),
    'SE standard (r=16)': (
        dict(type='se_backbones.SEResNet', depth=50),
        'SENet: 22.28 err; ECA: 76.71 acc',
    ),
    'SE-PRE': (dict(type='se_backbones.SEResNet', depth=50, se_position='pre'), '22.23 err'),
    'SE-POST': (dict(type='se_backbones.SEResNet', depth=50, se_position='post'), '22.78 err'),
    'SE-Identity': (
        dict(type='se_backbones.SEResNet', depth=50, se_position='identity'),
        '22.20 err',
    ),
    'SE after 3x3 conv': (
        dict(type='se_backbones.SEResNet', depth=50, se_position='after_conv2'),
        '22.48 err',
    ),
    'SE, max squeeze': (
        dict(type='se_backbones.SEResNet', depth=50, se_cfg=dict(squeeze='max')),
        '22.57 err',
    ),
    'SE, avg+max squeeze': (
        dict(type='se_backbones.SEResNet', depth=50, se_cfg=dict(squeeze='avgmax')),
        '-',
    ),
    'SE, ReLU gate': (
        dict(type='se_backbones.SEResNet', depth=50, se_cfg=dict(gate='relu')),
        '23.47 err',
    ),
    'SE, tanh gate': (
        dict(type='se_backbones.SEResNet', depth=50, se_cfg=dict(gate='tanh')),
        '23.00 err',
    ),
    'SE, stages 3-4 only': (
        dict(type='se_backbones.SEResNet', depth=50, stage_with_se=(False, False, True, True)),
        '-',
    ),
    'ECA (adaptive k)': (
        dict(type='se_backbones.SEResNet', depth=50, se_cfg=dict(type='ECALayer')),
        'ECA: 77.42 acc',
    ),
    'mmdet ResNet + SEPlugin': (dict(type='ResNet', depth=50, plugins=_PLUGIN), '= SE standard'),
    'SENet-154': (dict(type='se_backbones.SENet154'), 'SENet: 18.68 err (single crop 224)'),
}


def summarize(name, model, size):
    """Params, FLOPs and output shapes of one backbone for a 1x3xSxS input."""
    import torch
    from mmengine.analysis import get_model_complexity_info

    model.eval()
    with torch.no_grad():
        shapes = [tuple(f.shape[1:]) for f in model(torch.zeros(1, 3, size, size))]
    info = get_model_complexity_info(
        model, input_shape=(3, size, size), show_table=False, show_arch=False
    )
    return dict(
        name=name,
        type=type(model).__module__ + '.' + type(model).__name__,
        params=info['params'],
        flops=info['flops'],
        stage_shapes=shapes,
    )


def main(argv=None):
    p = parser(__doc__)
    p.add_argument('--input-size', type=int, default=224, help='input height and width')
    p.add_argument(
        '--variants',
        action='store_true',
        help="also the SE-ResNet-50 variants, with the papers' figures",
    )
    p.add_argument('--json', help='also write the rows to this JSON file')
    args = p.parse_args(argv)
    from mmengine.config import Config
    from mmengine.logging import MMLogger

    MMLogger.get_current_instance().setLevel(logging.ERROR)  # "unsupported operator" notes

    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    init_default_scope('mmdet')
    cfg = Config.fromstring(CONFIG, '.py')  # runs custom_imports, as a user's config does
    rows = [
        summarize(name, MODELS.build(model_cfg), args.input_size)
        for name, model_cfg in cfg.models.items()
    ]

    s = args.input_size
    print(f'| model | built class | params (M) | FLOPs @{s}x{s} (G) | stage outputs (C, H, W) |')
    print('|---|---|---:|---:|---|')
    for r in rows:
        shapes = ' '.join('x'.join(map(str, shape)) for shape in r['stage_shapes'])
        print(
            f'| {r["name"]} | {r["type"]} | {r["params"] / 1e6:.3f} | '
            f'{r["flops"] / 1e9:.3f} | {shapes} |'
        )
    for plain, se in zip(rows[::2], rows[1::2], strict=True):
        print(
            f'{se["name"]} vs {plain["name"]}: +{(se["params"] - plain["params"]) / 1e6:.3f}M '
            f'params ({se["params"] / plain["params"] - 1:+.1%}), '
            f'+{(se["flops"] - plain["flops"]) / 1e6:.1f}M FLOPs '
            f'({se["flops"] / plain["flops"] - 1:+.2%})'
        )
    if args.variants:
        rows += print_variants(MODELS, args.input_size)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)
    return rows


def print_variants(registry, size):
    """Params and FLOPs of every variant, measured, against ResNet-50, with the paper figure."""
    rows = [
        dict(summarize(name, registry.build(cfg), size), paper=paper)
        for name, (cfg, paper) in VARIANTS.items()
    ]
    base = rows[0]
    print(f'\n| variant | params (M) | extra params | FLOPs @{size}x{size} (G) | paper |')
    print('|---|---:|---:|---:|---|')
    for r in rows:
        print(
            f'| {r["name"]} | {r["params"] / 1e6:.3f} | {r["params"] - base["params"]:+,} | '
            f'{r["flops"] / 1e9:.3f} | {r["paper"]} |'
        )
    return rows


if __name__ == '__main__':
    main()
