"""Evaluate a checkpoint with MMEngine's Runner (mmdet, mmseg or mmpretrain configs).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]
                         [--cfg-options k=v ...] [--launcher pytorch]

A dataset that is not where the config expects it is reported before anything is built.
"""

import argparse
import os
import sys

if not __package__:  # run as a script: the repo root holds tools.cli
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools.cli import add_runner_args, parse_runner_args, parser, require_file


def parse_args(argv=None):
    p = parser(__doc__)
    p.add_argument('config', help='test config file path')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--out', help='dump the predictions to this pickle file')
    add_runner_args(p)
    args = parse_runner_args(p, argv)
    require_file('test.py', args.config, 'config file')
    require_file('test.py', args.checkpoint, 'checkpoint')
    return args


def main(argv=None):
    args = parse_args(argv)
    from se_backbones.engine.runner import build_runner

    runner = build_runner(
        argparse.Namespace(
            config=args.config,
            launcher=args.launcher,
            work_dir=args.work_dir,
            cfg_options=dict(args.cfg_options or {}, load_from=args.checkpoint),
        ),
        tool='test.py',
        splits=('test',),
    )
    if args.out:
        from mmengine.evaluator import DumpResults

        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    return runner.test()


if __name__ == '__main__':
    main()
    from se_backbones.engine.runner import finish_distributed

    finish_distributed()
