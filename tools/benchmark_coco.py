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
import time

import torch
from mmengine.analysis import FlopAnalyzer
from mmengine.config import DictAction

from se_backbones.runner import build_runner

COLUMNS = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m', 'bbox_mAP_l',
           'segm_mAP')


class _Forward(torch.nn.Module):
    """A detector's tensor forward for one preprocessed batch, for the FLOP counter."""

    def __init__(self, model, data_samples):
        super().__init__()
        self.model, self.data_samples = model, data_samples

    def forward(self, inputs):
        return self.model._forward(inputs, self.data_samples)


def measure(config, checkpoint, cfg_options, max_images, work_dir):
    options = dict(cfg_options, load_from=checkpoint)
    if max_images:
        options['test_dataloader.dataset.indices'] = max_images
    name = os.path.splitext(os.path.basename(config))[0]
    runner = build_runner(argparse.Namespace(config=config, launcher='none', cfg_options=options,
                                             work_dir=os.path.join(work_dir, name)))
    metrics = runner.test()
    model = runner.model.eval()
    batches = list(runner.test_dataloader)
    with torch.no_grad():
        first = model.data_preprocessor(batches[0], False)
        flops = FlopAnalyzer(_Forward(model, first['data_samples'][:1]),
                             first['inputs'][:1]).unsupported_ops_warnings(False).total()
        model.test_step(batches[0])  # warm-up
        images, start = 0, time.perf_counter()
        for batch in batches[1:] or batches:
            model.test_step(batch)
            images += len(batch['inputs'])
        speed = images / (time.perf_counter() - start)
    backbone = model.backbone
    return dict(
        config=config, backbone=f'{type(backbone).__name__}-{getattr(backbone, "depth", "")}',
        params=sum(p.numel() for p in model.parameters()), flops=flops, images_per_s=speed,
        **{c: metrics.get(f'coco/{c}') for c in COLUMNS})


def print_table(rows):
    header = ['config', 'backbone', 'params (M)', 'GFLOPs', 'img/s', 'AP', 'AP50', 'AP75',
              'APs', 'APm', 'APl', 'mask AP']
    print('| ' + ' | '.join(header) + ' |')
    print('|---|---|' + '---:|' * (len(header) - 2))
    for r in rows:
        aps = ['-' if r[c] is None else f'{r[c]:.3f}' for c in COLUMNS]
        print(f"| {r['config']} | {r['backbone']} | {r['params'] / 1e6:.2f} | "
              f"{r['flops'] / 1e9:.2f} | {r['images_per_s']:.2f} | " + ' | '.join(aps) + ' |')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--checkpoints', nargs='+', required=True)
    parser.add_argument('--max-images', type=int, help='evaluate the first N test images only')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    parser.add_argument('--work-dir', default='work_dirs/benchmark_coco',
                        help='logs of each evaluation go to WORK_DIR/<config name>')
    parser.add_argument('--json', help='also write the rows to this JSON file')
    args = parser.parse_args(argv)
    if len(args.configs) != len(args.checkpoints):
        parser.error(f'{len(args.configs)} configs but {len(args.checkpoints)} checkpoints: '
                     'give one checkpoint per config')
    rows = [measure(c, k, args.cfg_options, args.max_images, args.work_dir)
            for c, k in zip(args.configs, args.checkpoints)]
    print_table(rows)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == '__main__':
    main()
