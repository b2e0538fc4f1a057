"""Compile the optional one-pass SE block end for this torch (see
:mod:`se_backbones.layers.fused_op`): about 40 s, once per torch version; needs a C++ compiler
and ninja. Without it the PyTorch formulas run (same results, slower train step).

    python -m se_backbones.build_ops [-v] [--force]
    python -m se_backbones.build_ops --check     # is it in use? (exit status 1 if not)
"""
import argparse
import sys

from se_backbones.layers import fused_op


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m se_backbones.build_ops', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('-v', '--verbose', action='store_true', help="show the compiler's output")
    parser.add_argument('--force', action='store_true',
                        help='compile again even if this torch has a build (default: load it)')
    parser.add_argument('--check', action='store_true',
                        help='only say whether import se_backbones uses the compiled op, and '
                        'why not if not (exit status 1)')
    args = parser.parse_args(argv)
    if args.check:
        import se_backbones  # noqa: F401  (loads the op as any user's import does)
        in_use, why = fused_op.status()
        print(f'se_backbones: compiled SE block end {why}')
        return 0 if in_use else 1
    fused_op.build(verbose=args.verbose, force=args.force)
    print(f'se_backbones: compiled SE block end in {fused_op.build_dir()}; '
          'import se_backbones uses it from now on')


if __name__ == '__main__':
    sys.exit(main())
