"""Train with MMEngine's Runner, for mmdet, mmseg and mmpretrain configs alike (the config's
``default_scope`` picks the toolkit), as the toolkits' own tools/train.py do.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                                 [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse

from se_backbones.runner import add_runner_args, build_runner, parse_runner_args


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model with MMEngine\'s Runner')
    parser.add_argument('config', help='train config file path')
    add_runner_args(parser)
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (MMEngine\'s AmpOptimWrapper: GPU only)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate by the total batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or without a value from the latest one in the '
        'work dir')
    return parse_runner_args(parser, argv)


def main(argv=None):
    runner = build_runner(parse_args(argv))
    runner.train()
    return runner


if __name__ == '__main__':
    main()
