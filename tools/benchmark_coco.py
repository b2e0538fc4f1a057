"""COCO benchmark of detectors side by side: AP (bbox, and segm for Mask R-CNN), parameters,
FLOPs and inference speed, in one table.

    python tools/benchmark_coco.py CFG [CFG ...] --checkpoints CKPT [CKPT ...]
                                   [--max-images N] [--cfg-options k=v ...] [--json out.json]
                                   [--work-dir work_dirs/benchmark_coco]

AP is mmdet's CocoMetric (pycocotools) on the config's test set. FLOPs are MMEngine's counts
(one multiply-add = one FLOP) for the first test image at its test size; images/s is
``model.test_step`` on the test set in eval mode, batch as configured, after one warm-up batch,
data loading excluded, on this process's threads.
"""

import argparse
import json
import os
import sys
import time

if not __package__:  # run as a script: the repo root holds tools.cli
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools.cli import add_cfg_options, require_file
from tools.cli import parser as cli_parser

COLUMNS = (
    'bbox_mAP',
    'bbox_mAP_50',
    'bbox_mAP_75',
    'bbox_mAP_s',
    'bbox_mAP_m',
    'bbox_mAP_l',
    'segm_mAP',
)


def flops_of(model, batch):
    """MMEngine's FLOP count of a detector's tensor forward for the first image of ``batch``."""
    import torch
    from mmengine.analysis import FlopAnalyzer

    class Forward(torch.nn.Module):  # the detector as a submodule: its weights are parameters
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, inputs):
            return self.model._forward(inputs, batch['data_samples'][:1])

    return FlopAnalyzer(Forward(), batch['inputs'][:1]).unsupported_ops_warnings(False).total()


def measure(config, checkpoint, cfg_options, max_images, work_dir):
    import torch

    from se_backbones.engine.runner import build_runner

    options = dict(cfg_options, load_from=checkpoint)
    if max_images:
        options['test_dataloader.dataset.indices'] = max_images
    name = os.path.splitext(os.path.basename(config))[0]
    runner = build_runner(
        argparse.Namespace(
            config=config,
            launcher='none',
            cfg_options=options,
            work_dir=os.path.join(work_dir, name),
        )
    )
    metrics = runner.test()
    model = runner.model.eval()
    batches = list(runner.test_dataloader)
    with torch.no_grad():
        flops = flops_of(model, model.data_preprocessor(batches[0], False))
        model.test_step(batches[0])  # warm-up
        images, start = 0, time.perf_counter()
        for batch in batches[1:] or batches:
            model.test_step(batch)
            images += len(batch['inputs'])
        speed = images / (time.perf_counter() - start)
    backbone = model.backbone
    return dict(
        config=config,
        backbone=f'{type(backbone).__name__}-{getattr(backbone, "depth", "")}',
        params=sum(p.numel() for p in model.parameters()),
        flops=flops,
        images_per_s=speed,
        **{c: metrics.get(f'coco/{c}') for c in COLUMNS},
    )


def print_table(rows):
    header = [
        'config',
        'backbone',
        'params (M)',
        'GFLOPs',
        'img/s',
        'AP',
        'AP50',
        'AP75',
        'APs',
        'APm',
        'APl',
        'mask AP',
    ]
    print('| ' + ' | '.join(header) + ' |')
    print('|---|---|' + '---:|' * (len(header) - 2))
    for r in rows:
        aps = ['-' if r[c] is None else f'{r[c]:.3f}' for c in COLUMNS]
        print(
            f'| {r["config"]} | {r["backbone"]} | {r["params"] / 1e6:.2f} | '
            f'{r["flops"] / 1e9:.2f} | {r["images_per_s"]:.2f} | ' + ' | '.join(aps) + ' |'
        )


def main(argv=None):
    parser = cli_parser(__doc__)
    parser.add_argument('configs', nargs='+', metavar='CFG', help='detector configs')
    parser.add_argument(
        '--checkpoints',
        nargs='+',
        required=True,
        metavar='CKPT',
        help='one checkpoint per config, in the same order',
    )
    parser.add_argument(
        '--max-images', type=int, help='evaluate the first N test images only (None: all)'
    )
    add_cfg_options(parser)
    parser.add_argument(
        '--work-dir',
        default='work_dirs/benchmark_coco',
        help='logs of each evaluation go to WORK_DIR/<config name>',
    )
    parser.add_argument('--json', help='also write the rows to this JSON file')
    args = parser.parse_args(argv)
    if len(args.configs) != len(args.checkpoints):
        parser.error(
            f'{len(args.configs)} configs but {len(args.checkpoints)} checkpoints: '
            'give one checkpoint per config'
        )
    for config, checkpoint in zip(args.configs, args.checkpoints, strict=True):
        require_file('benchmark_coco.py', config, 'config file')
        require_file('benchmark_coco.py', checkpoint, 'checkpoint')
    rows = [
        measure(c, k, args.cfg_options, args.max_images, args.work_dir)
        for c, k in zip(args.configs, args.checkpoints, strict=True)
    ]
    print_table(rows)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == '__main__':
    main()
