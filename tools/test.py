"""Evaluate a checkpoint with MMEngine's Runner (mmdet, mmseg or mmpretrain configs).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]
                         [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse

from se_backbones.runner import add_runner_args, build_runner, parse_runner_args


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump the predictions to this pickle file')
    add_runner_args(parser)
    return parse_runner_args(parser, argv)


def main(argv=None):
    args = parse_args(argv)
    runner = build_runner(argparse.Namespace(
        config=args.config, launcher=args.launcher, work_dir=args.work_dir,
        cfg_options=dict(args.cfg_options or {}, load_from=args.checkpoint)))
    if args.out:
        from mmengine.evaluator import DumpResults
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    return runner.test()


if __name__ == '__main__':
    main()
