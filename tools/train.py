"""Train with MMEngine's Runner, for mmdet, mmseg and mmpretrain configs alike (the config's
``default_scope`` picks the toolkit), as the toolkits' own tools/train.py do.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                                 [--cfg-options k=v ...] [--launcher pytorch]

A dataset that is not where the config expects it is reported before anything is built.
"""

import os
import sys

if not __package__:  # run as a script: the repo root holds tools.cli
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools.cli import add_runner_args, parse_runner_args, parser, require_file


def parse_args(argv=None):
    p = parser(__doc__)
    p.add_argument('config', help='train config file path')
    add_runner_args(p)
    p.add_argument(
        '--amp',
        action='store_true',
        help="automatic mixed precision (MMEngine's AmpOptimWrapper: GPU only)",
    )
    p.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the total batch size '
        '(auto_scale_lr.base_batch_size of the config, else 16)',
    )
    p.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or without a value from the latest one in the work dir',
    )
    args = parse_runner_args(p, argv)
    require_file('train.py', args.config, 'config file')
    if args.resume not in (None, 'auto'):
        require_file('train.py', args.resume, '--resume checkpoint')
    return args


def main(argv=None):
    args = parse_args(argv)
    from se_backbones.engine.runner import build_runner

    runner = build_runner(args, tool='train.py', splits=('train', 'val'))
    runner.train()
    return runner


if __name__ == '__main__':
    main()
    from se_backbones.engine.runner import finish_distributed

    finish_distributed()
