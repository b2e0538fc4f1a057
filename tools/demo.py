"""The main job: generate the toy shapes set if missing, train Faster R-CNN SE-R50 on it on the
CPU, evaluate with mmdet's CocoMetric and draw the results.

    python tools/demo.py [--work-dir work_dirs/faster_rcnn_se_r50_toy] [--cfg-options ...]

Prints the COCO bbox table of the final evaluation; writes curves.png (loss, val AP) and
predictions.png (val images with predicted boxes) into the work dir.
"""

import argparse
import os
import sys

if not __package__:  # run as a script: the repo root holds tools.cli
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools.cli import add_cfg_options, parser

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, 'configs', 'toy', 'faster_rcnn_se_r50_toy.py')
METRICS = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m', 'bbox_mAP_l')


def main(argv=None):
    p = parser(__doc__)
    p.add_argument(
        '--work-dir',
        default='work_dirs/faster_rcnn_se_r50_toy',
        help='logs, checkpoints, curves.png and predictions.png',
    )
    p.add_argument(
        '--data-root',
        default='data/toy_shapes',
        help='the toy shapes set; generated there if missing',
    )
    add_cfg_options(p)
    args = p.parse_args(argv)
    from se_backbones.data import make_toy_shapes
    from se_backbones.engine.runner import build_runner
    from se_backbones.engine.visualization import plot_run, read_scalars

    written = make_toy_shapes(args.data_root)
    print(f'toy shapes set {"written to" if written else "found in"} {args.data_root}')
    root = args.data_root.rstrip('/') + '/'
    options = {f'{split}_dataloader.dataset.data_root': root for split in ('train', 'val', 'test')}
    options.update(
        {
            f'{split}_evaluator.ann_file': root + 'annotations/instances_val.json'
            for split in ('val', 'test')
        }
    )
    options.update(args.cfg_options)
    build_runner(
        argparse.Namespace(
            config=CONFIG, work_dir=args.work_dir, launcher='none', cfg_options=options
        )
    ).train()

    _, val = read_scalars(args.work_dir)
    if not val:
        raise RuntimeError(
            f'{args.work_dir}: no COCO metrics were logged: the model made no '
            'detections above the score threshold'
        )
    final = val[-1]
    print(
        f'\nFaster R-CNN SE-R50 on the toy val set after {final["step"]} iterations '
        '(COCO bbox metrics, pycocotools):'
    )
    print('| ' + ' | '.join(METRICS) + ' |')
    print('|' + '---:|' * len(METRICS))
    print('| ' + ' | '.join(f'{final[f"coco/{m}"]:.3f}' for m in METRICS) + ' |')
    plot_run(args.work_dir)
    return final


if __name__ == '__main__':
    main()
