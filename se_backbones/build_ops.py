"""``python -m se_backbones.build_ops``: compile the optional one-pass SE block end for this
torch (see :mod:`se_backbones.layers.fused_op`); ``-v`` shows the compiler's output."""
import sys

from se_backbones.layers import fused_op

if __name__ == '__main__':
    fused_op.build(verbose='-v' in sys.argv)
    print(f'se_backbones: compiled SE block end in {fused_op.build_dir()}; '
          'import se_backbones uses it from now on')
