"""Check that our backbones reproduce timm's SE-ResNets: random weights, converted, compared.

    python dev/check_timm.py [--size 75] [NAME ...]

Prints a Markdown table: timm name, our backbone config, and the largest relative difference
(max |ours - timm| / max |timm|) over the layer1..layer4 features, in eval mode, for a random
2x3xSIZExSIZE input.
"""

import os
import sys

if not __package__:  # run as a script: the repo root holds tools.cli
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools.cli import parser


def main(argv=None):
    p = parser(__doc__)
    p.add_argument(
        'names',
        nargs='*',
        metavar='NAME',
        help='timm architectures (with or without a pretrained tag); default: all '
        'supported ones (se_backbones.TIMM_ARCHS)',
    )
    p.add_argument('--size', type=int, default=75, help='input height and width')
    args = p.parse_args(argv)
    from se_backbones import TIMM_ARCHS, backbone_cfg_from_timm
    from se_backbones.weights.equivalence import equivalence_error

    print('| timm model | our backbone config | max rel. error |')
    print('|---|---|---:|')
    for name in args.names or list(TIMM_ARCHS):
        cfg = backbone_cfg_from_timm(name)
        args_text = ', '.join(f'{k}={v!r}' for k, v in cfg.items() if k != 'type')
        print(
            f'| {name} | {cfg["type"].split(".")[1]}({args_text}) | '
            f'{equivalence_error(name, args.size):.1e} |',
            flush=True,
        )


if __name__ == '__main__':
    main()
