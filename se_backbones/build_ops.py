"""Compile the optional one-pass SE block end for this torch (see
:mod:`se_backbones.layers.fused_op`): about 40 s, once per torch version; needs a C++ compiler
and ninja. Without it the PyTorch formulas run (same results, slower train step).

    python -m se_backbones.build_ops [-v] [--force]
"""
import argparse

from se_backbones.layers import fused_op


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m se_backbones.build_ops', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('-v', '--verbose', action='store_true', help="show the compiler's output")
    parser.add_argument('--force', action='store_true',
                        help='compile again even if this torch has a build (default: load it)')
    args = parser.parse_args(argv)
    fused_op.build(verbose=args.verbose, force=args.force)
    print(f'se_backbones: compiled SE block end in {fused_op.build_dir()}; '
          'import se_backbones uses it from now on')


if __name__ == '__main__':
    main()
