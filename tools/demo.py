"""The main job: generate the toy shapes set if missing, train Faster R-CNN SE-R50 on it on the
CPU, evaluate with mmdet's CocoMetric and draw the results.

    python tools/demo.py [--work-dir work_dirs/faster_rcnn_se_r50_toy] [--cfg-options ...]

Prints the COCO bbox table of the final evaluation; writes curves.png (loss, val AP) and
predictions.png (val images with predicted boxes) into the work dir.
"""
import argparse
import os

from mmengine.config import DictAction

from se_backbones.data import make_toy_shapes
from tools import plot_results, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, 'configs', 'toy', 'faster_rcnn_se_r50_toy.py')
METRICS = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m', 'bbox_mAP_l')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/faster_rcnn_se_r50_toy')
    parser.add_argument('--data-root', default='data/toy_shapes')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    args = parser.parse_args(argv)

    written = make_toy_shapes(args.data_root)
    print(f"toy shapes set {'written to' if written else 'found in'} {args.data_root}")
    train.main([CONFIG, '--work-dir', args.work_dir, '--cfg-options',
                *[f'{k}={v}' for k, v in args.cfg_options.items()]]
               if args.cfg_options else [CONFIG, '--work-dir', args.work_dir])

    _, val = plot_results.read_scalars(args.work_dir)
    if not val:
        raise RuntimeError(f'{args.work_dir}: no COCO metrics were logged: the model made no '
                           'detections above the score threshold')
    final = val[-1]
    print(f"\nFaster R-CNN SE-R50 on the toy val set after {final['step']} iterations "
          '(COCO bbox metrics, pycocotools):')
    print('| ' + ' | '.join(METRICS) + ' |')
    print('|' + '---:|' * len(METRICS))
    print('| ' + ' | '.join(f"{final[f'coco/{m}']:.3f}" for m in METRICS) + ' |')
    plot_results.main([args.work_dir])
    return final


if __name__ == '__main__':
    main()
