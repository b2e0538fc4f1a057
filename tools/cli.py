"""What the tools share on the command line: a parser that shows every default, options parsed
before any heavy import (so ``--help`` is instant), and one-line errors for missing inputs."""

import argparse
import os
import sys


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults in the option help, the module docstring's layout kept."""


def parser(doc, **kwargs):
    """An ArgumentParser whose description is the tool's docstring and whose help shows each
    option's default."""
    return argparse.ArgumentParser(description=doc, formatter_class=_Formatter, **kwargs)


class CfgOptions(argparse.Action):
    """MMEngine's ``DictAction`` (``key=value`` pairs), imported only when the option is given."""

    def __call__(self, parser, namespace, values, option_string=None):
        from mmengine.config import DictAction

        DictAction(self.option_strings, self.dest)(parser, namespace, values, option_string)


def add_cfg_options(parser):
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptions,
        default={},
        metavar='KEY=VALUE',
        help='override config settings, e.g. train_cfg.max_iters=100 '
        "'model.backbone.depth=101' (MMEngine's DictAction)",
    )


def add_runner_args(parser):
    """Options shared by tools/train.py and tools/test.py."""
    parser.add_argument(
        '--work-dir', help='where logs and checkpoints go; default: ./work_dirs/<config name>'
    )
    add_cfg_options(parser)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher (pytorch: torchrun)',
    )
    parser.add_argument(
        '--local_rank',
        '--local-rank',
        type=int,
        default=0,
        help='set by older launchers; torchrun sets LOCAL_RANK instead',
    )


def parse_runner_args(parser, argv):
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def die(tool, message):
    """End the tool with one line on stderr (exit status 2), no traceback."""
    print(f'{tool}: error: {message}', file=sys.stderr)
    raise SystemExit(2)


def require_file(tool, path, what):
    """``path`` is a readable file, or the tool ends with one line saying so."""
    if not os.path.isfile(path):
        die(tool, f'{what} {path!r} does not exist')
    if not os.access(path, os.R_OK):
        die(tool, f'{what} {path!r} is not readable')
