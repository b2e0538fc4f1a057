"""Pictures of a training run: loss and validation-metric curves, and predictions.

    python tools/plot_results.py WORK_DIR [--config CFG] [--checkpoint CKPT] [--num-images 8]

Reads ``WORK_DIR/<timestamp>/vis_data/scalars.json`` and writes ``WORK_DIR/curves.png``; with
the config and checkpoint (default: the run's config and last checkpoint) writes
``WORK_DIR/predictions.png``: for mmdet, val images with predicted boxes (score >= 0.5,
class-coloured, with scores) and ground-truth boxes in white; for mmseg, val images above their
predicted and ground-truth label maps.
"""
import argparse

from se_backbones.visualization import plot_run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('work_dir')
    parser.add_argument('--config', help='default: the config file saved in WORK_DIR')
    parser.add_argument('--checkpoint', help='default: WORK_DIR/last_checkpoint')
    parser.add_argument('--num-images', type=int, default=8)
    args = parser.parse_args(argv)
    return plot_run(args.work_dir, args.config, args.checkpoint, args.num_images)


if __name__ == '__main__':
    main()
