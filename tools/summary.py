"""Build SE-ResNet-50 / SE-ResNeXt-50 and their plain twins through mmdet's registry, the way an
mmdet config does (``custom_imports`` + ``type='se_backbones.SEResNet'``), and print their stage
shapes, parameters and FLOPs as a Markdown table.

    python tools/summary.py [--input-size 224] [--json out.json]

FLOPs are MMEngine's counts for one image (fvcore rules: one multiply-add of a conv or linear
layer = one FLOP, adaptive pooling counts its inputs; BN, ReLU, sigmoid and element-wise
products are not counted).
"""
import argparse
import json
import logging

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config
from mmengine.logging import MMLogger

CONFIG = """
custom_imports = dict(imports=['se_backbones'], allow_failed_imports=False)
models = {
    'ResNet-50': dict(type='ResNet', depth=50),
    'SE-ResNet-50': dict(type='se_backbones.SEResNet', depth=50),
    'ResNeXt-50 32x4d': dict(type='ResNeXt', depth=50, groups=32, base_width=4),
    'SE-ResNeXt-50 32x4d': dict(type='se_backbones.SEResNeXt', depth=50, groups=32, base_width=4),
}
"""


def summarize(name, model, size):
    """Params, FLOPs and output shapes of one backbone for a 1x3xSxS input."""
    model.eval()
    with torch.no_grad():
        shapes = [tuple(f.shape[1:]) for f in model(torch.zeros(1, 3, size, size))]
    info = get_model_complexity_info(
        model, input_shape=(3, size, size), show_table=False, show_arch=False)
    return dict(name=name, type=type(model).__module__ + '.' + type(model).__name__,
                params=info['params'], flops=info['flops'], stage_shapes=shapes)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--input-size', type=int, default=224)
    parser.add_argument('--json', help='also write the rows to this JSON file')
    args = parser.parse_args(argv)
    MMLogger.get_current_instance().setLevel(logging.ERROR)  # "unsupported operator" notes

    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg = Config.fromstring(CONFIG, '.py')  # runs custom_imports, as a user's config does
    rows = [summarize(name, MODELS.build(model_cfg), args.input_size)
            for name, model_cfg in cfg.models.items()]

    s = args.input_size
    print(f'| model | built class | params (M) | FLOPs @{s}x{s} (G) | stage outputs (C, H, W) |')
    print('|---|---|---:|---:|---|')
    for r in rows:
        shapes = ' '.join('x'.join(map(str, shape)) for shape in r['stage_shapes'])
        print(f"| {r['name']} | {r['type']} | {r['params'] / 1e6:.3f} | "
              f"{r['flops'] / 1e9:.3f} | {shapes} |")
    for plain, se in zip(rows[::2], rows[1::2]):
        print(f"{se['name']} vs {plain['name']}: +{(se['params'] - plain['params']) / 1e6:.3f}M "
              f"params ({se['params'] / plain['params'] - 1:+.1%}), "
              f"+{(se['flops'] - plain['flops']) / 1e6:.1f}M FLOPs "
              f"({se['flops'] / plain['flops'] - 1:+.2%})")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == '__main__':
    main()
