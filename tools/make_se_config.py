"""Turn a config you already train (mmdet, mmseg or mmpretrain, with a ResNet, ResNetV1c,
ResNetV1d or ResNeXt backbone) into its SE twin: the same model, data and schedule with an SE
backbone of se_backbones and ImageNet SE weights from timm.

    python tools/make_se_config.py BASE OUT --timm seresnet50.a1_in1k
    python tools/make_se_config.py mmdet::retinanet/retinanet_r18_fpn_1x_coco.py \\
        configs/retinanet_se_r18.py --timm legacy_seresnet18.in1k
    python tools/make_se_config.py BASE OUT --arch se_r50 --checkpoint seresnet50.pth
    python tools/make_se_config.py --list-archs

OUT inherits BASE (_base_: a toolkit config by its mmdet::/mmseg::/mmpretrain:: name, another
absolute path as it is, a relative one relative to OUT) and replaces its backbone
(_delete_=True). --checkpoint is checked against the architecture first. It keeps the base's
out_indices, frozen_stages, norm_cfg, norm_eval, strides, dilations, contract_dilation, DCN,
plugins, with_cp and num_stages; takes depth, style, stem and downsampling from the
architecture (the weights decide them); and fixes neck/head input widths, the data
preprocessor's mean/std/RGB order (timm's), init_cfg and a model-level pretrained. Each change
is printed with its reason. A base that cannot be mapped gets one line naming why, and nothing
is written. The same function is se_backbones.twin.make_se_config.
"""

import os
import re
import sys

if not __package__:  # run as a script: the repo root holds tools.cli
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools.cli import die, parser, require_file

TOOL = 'make_se_config.py'
# The library's argument names in its messages, and the flags that set them here.
FLAGS = (
    (r'\btimm=', '--timm '),
    (r'\barch=', '--arch '),
    (r'\bcheckpoint=', '--checkpoint '),
    (r'\boverwrite=True', '--force'),
    (r'\bout=', 'OUT '),
    (r'\bout is\b', 'OUT is'),
    (r'\barch_table\(\)', '--list-archs'),
    (r'\bwithout timm and checkpoint', 'alone'),
    (r'\barch alone', '--arch alone'),
)


def as_flags(message):
    """A library message in this command's words: ``timm=NAME`` -> ``--timm NAME``.

    Example:
        >>> as_flags("out='x.py' exists (overwrite=True replaces it); give timm=NAME")
        "OUT 'x.py' exists (--force replaces it); give --timm NAME"
    """
    for pattern, flag in FLAGS:
        message = re.sub(pattern, flag, message)
    return message


def parse_args(argv=None):
    p = parser(__doc__)
    p.add_argument(
        'base',
        nargs='?',
        metavar='BASE',
        help='the config to twin: a path, or mmdet::<path>, mmseg::<path>, '
        "mmpretrain::<path> in the installed toolkit's configs",
    )
    p.add_argument('out', nargs='?', metavar='OUT', help='where to write the twin (.py)')
    p.add_argument(
        '--timm',
        metavar='NAME',
        help='timm weights, e.g. seresnet50.a1_in1k, legacy_seresnet18.in1k (a name '
        "without tag: timm's default weights); implies the architecture",
    )
    p.add_argument(
        '--arch',
        metavar='ARCH',
        help='our architecture: se_r18, se_r34, se_r50, se_r101, se_r152, '
        'se_x50_32x4d, se_x101_32x4d, se_x101_64x4d, eca_r50d, legacy_se_r50, ... '
        '(--list-archs lists all with their timm weights). Alone: an untrained '
        'backbone; with --timm: must be its architecture',
    )
    p.add_argument(
        '--checkpoint',
        metavar='PATH',
        help="a local file (.pth/.bin/.safetensors) of the timm model's state dict, "
        'for the architecture of --arch or --timm; no download then',
    )
    p.add_argument('--force', action='store_true', help='replace OUT if it exists')
    p.add_argument(
        '--list-archs',
        action='store_true',
        help='print every architecture, its backbone config and the ImageNet weights '
        "timm has for it (read offline from timm's registry), and exit",
    )
    args = p.parse_args(argv)
    if not args.list_archs:
        if args.base is None or args.out is None:
            p.error('BASE and OUT are required (or --list-archs)')
        if '::' not in args.base:
            require_file(TOOL, args.base, 'base config')
        if args.checkpoint is not None:
            require_file(TOOL, args.checkpoint, '--checkpoint')
        if args.timm is None and args.arch is None:
            die(
                TOOL,
                'give --timm NAME (the weights; it implies the architecture) or --arch '
                'ARCH (untrained, or with --checkpoint a local timm file); --list-archs lists '
                'them',
            )
    return args


def main(argv=None):
    args = parse_args(argv)
    from se_backbones.twin import TwinError, arch_table, make_se_config

    if args.list_archs:
        print('\n'.join(arch_table()))
        return None
    try:
        twin = make_se_config(
            args.base,
            args.out,
            arch=args.arch,
            timm=args.timm,
            checkpoint=args.checkpoint,
            overwrite=args.force,
        )
    except TwinError as error:
        die(TOOL, as_flags(str(error)))
    print('\n'.join(map(as_flags, twin.report())))
    return twin


if __name__ == '__main__':
    main()
