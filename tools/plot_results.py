"""Pictures of a training run: loss and validation-metric curves, and predictions.

    python tools/plot_results.py WORK_DIR [--config CFG] [--checkpoint CKPT] [--num-images 8]

Reads ``WORK_DIR/<timestamp>/vis_data/scalars.json`` and writes ``WORK_DIR/curves.png``; with
the config and checkpoint (default: the run's config and last checkpoint) writes
``WORK_DIR/predictions.png``: for mmdet, val images with predicted boxes (score >= 0.5,
class-coloured, with scores) and ground-truth boxes in white; for mmseg, val images above their
predicted and ground-truth label maps.
"""

import os
import sys

if not __package__:  # run as a script: the repo root holds tools.cli
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools.cli import die, parser, require_file


def main(argv=None):
    p = parser(__doc__)
    p.add_argument('work_dir', help='the work dir of a run (tools/train.py or the demo)')
    p.add_argument('--config', help='default: the config file saved in WORK_DIR')
    p.add_argument('--checkpoint', help='default: WORK_DIR/last_checkpoint')
    p.add_argument('--num-images', type=int, default=8, help='val images in predictions.png')
    args = p.parse_args(argv)
    if not os.path.isdir(args.work_dir):
        die('plot_results.py', f'work dir {args.work_dir!r} does not exist')
    for option in ('config', 'checkpoint'):
        if getattr(args, option):
            require_file('plot_results.py', getattr(args, option), f'--{option}')
    from se_backbones.engine.visualization import plot_run

    return plot_run(args.work_dir, args.config, args.checkpoint, args.num_images)


if __name__ == '__main__':
    main()
