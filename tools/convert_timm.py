"""Convert a timm SE-ResNet checkpoint into an MMEngine checkpoint of our backbone.

    python tools/convert_timm.py MODEL_NAME SRC DST [--classifier]

SRC is the timm model's state dict (.pth, .bin or .safetensors). DST loads with
``init_cfg=dict(type='Pretrained', checkpoint=DST)`` on the printed backbone config; with
``--classifier`` it is an mmpretrain ``ImageClassifier`` (backbone + ``LinearClsHead``) whose
logits equal timm's.
"""

import collections
import os
import re
import sys

if not __package__:  # run as a script: the repo root holds tools.cli
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools.cli import die, parser, require_file


def key_group(key):
    """'backbone.layer2.0.se_layer.conv1.conv.weight' -> 'layer2 SE', 'stem.3.weight' -> 'stem'"""
    key = key.removeprefix('backbone.')
    if key.startswith('head.'):
        return 'classifier'
    stage = re.match(r'layer\d+', key)
    if not stage:
        return 'stem'
    kind = 'SE' if '.se_layer.' in key else 'downsample' if '.downsample.' in key else 'convs+BN'
    return f'{stage.group()} {kind}'


def main(argv=None):
    p = parser(__doc__)
    p.add_argument('model_name', help="timm name, e.g. 'seresnet50.a1_in1k'")
    p.add_argument('src', help='timm state dict (.pth, .bin, .safetensors)')
    p.add_argument('dst', help='output MMEngine checkpoint (.pth)')
    p.add_argument(
        '--classifier',
        action='store_true',
        help='keep the classifier: write an mmpretrain ImageClassifier',
    )
    args = p.parse_args(argv)
    require_file('convert_timm.py', args.src, 'timm checkpoint')
    if os.path.dirname(args.dst) and not os.path.isdir(os.path.dirname(args.dst)):
        die('convert_timm.py', f'the folder of the output {args.dst!r} does not exist')

    import torch
    from mmengine.config import Config

    from se_backbones import backbone_cfg_from_timm, convert_timm_state_dict, load_state_dict_file
    from se_backbones.weights.timm_archs import classifier_cfg

    try:
        state_dict = convert_timm_state_dict(
            args.model_name, load_state_dict_file(args.src), with_classifier=args.classifier
        )
    except (ValueError, KeyError) as error:  # bad file, unknown name, wrong architecture
        # a KeyError's str() is the repr of its message: the message itself (not the quotes
        # stripped off any message, which cut a quote a key name or path begins or ends with)
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        die('convert_timm.py', ' '.join(str(message).split()))
    torch.save(
        dict(
            meta=dict(timm_model=args.model_name, converter='se_backbones'), state_dict=state_dict
        ),
        args.dst,
    )

    print(f'{args.model_name}: wrote {len(state_dict)} tensors to {args.dst}; keys by group:')
    for group, count in collections.Counter(map(key_group, state_dict)).items():
        print(f'  {group:22s} {count:4d}')
    backbone = backbone_cfg_from_timm(args.model_name)
    if args.classifier:
        cfg = classifier_cfg(backbone, len(state_dict['head.fc.bias']))
        cfg['init_cfg'] = dict(type='Pretrained', checkpoint=args.dst)
    else:
        cfg = dict(backbone, init_cfg=dict(type='Pretrained', checkpoint=args.dst))
    print('config:')
    print(
        Config(
            dict(
                custom_imports=dict(imports=['se_backbones']),
                **{'model' if args.classifier else 'backbone': cfg},
            )
        ).pretty_text
    )
    return cfg


if __name__ == '__main__':
    main()
