"""Each twin rule alone: a base config (a model dict) in, Changes or a refusal out."""

import pytest

from se_backbones.twin import TwinError
from se_backbones.twin.context import context
from se_backbones.twin.rules_backbone import architecture, kept, kept_fit_target, refuse_c4_layout
from se_backbones.twin.rules_init import frozen_note, init
from se_backbones.twin.rules_model import plain_model_weights, preprocessor
from se_backbones.twin.widths import widths

R50 = dict(type='ResNet', depth=50)
FPN = dict(type='FPN', in_channels=[256, 512, 1024, 2048], out_channels=256, num_outs=5)


def shown(changes):
    return {c.key: (c.old, c.new) for c in changes if c.shown}


def test_c4_layout_is_refused_and_fpn_passes():
    assert refuse_c4_layout(context(dict(backbone=R50, neck=FPN))) == []
    with pytest.raises(TwinError, match="shared_head is 'ResLayer', a plain ResNet stage"):
        refuse_c4_layout(
            context(dict(backbone=R50, roi_head=dict(shared_head=dict(type='ResLayer'))))
        )


def test_architecture_comes_from_the_target():
    caffe = dict(R50, style='caffe')
    assert shown(architecture(context(dict(backbone=caffe), arch='se_r50'))) == {
        'model.backbone.type': ('ResNet', 'se_backbones.SEResNet'),
        'model.backbone.style': ('caffe', 'pytorch'),
    }
    resnext = dict(type='ResNeXt', depth=101, groups=64, base_width=4)
    assert shown(architecture(context(dict(backbone=resnext), arch='se_r50'))) == {
        'model.backbone.type': ('ResNeXt', 'se_backbones.SEResNet'),
        'model.backbone.depth': (101, 50),
        'model.backbone.groups': (64, 1),
    }
    legacy = shown(
        architecture(
            context(
                dict(backbone=dict(type='ResNetV1c', depth=50)), scope='mmseg', arch='legacy_se_r18'
            )
        )
    )
    assert legacy['model.backbone.deep_stem'] == (True, False)
    assert legacy['model.backbone.se_cfg'] == (None, {'divisor': 1})


def test_training_settings_are_kept_and_unknown_arguments_refused():
    base = dict(
        R50, frozen_stages=1, norm_cfg=dict(type='BN', requires_grad=False), drop_path_rate=0.0
    )
    assert {c.key: c.new for c in kept(context(dict(backbone=base)))} == {
        'model.backbone.frozen_stages': 1,
        'model.backbone.norm_cfg': dict(type='BN', requires_grad=False),
        'model.backbone.norm_eval': True,
    }  # mmdet's ResNet default, not ours
    with pytest.raises(
        TwinError,
        match=r'drop_path_rate=0.1 has no counterpart in '
        r'se_backbones.SEResNet',
    ):
        kept(context(dict(backbone=dict(R50, drop_path_rate=0.1))))


@pytest.mark.parametrize(
    'backbone, arch, model_name, error, message',
    [
        (
            dict(R50, dcn=dict(type='DCN'), stage_with_dcn=(False, True, True, True)),
            'se_r18',
            None,
            TwinError,
            r'model.backbone \(se_r18\): stage_with_dcn must be all False with basic blocks',
        ),
        (
            dict(R50, plugins=[dict(cfg=dict(type='ContextBlock'), position='after_conv3')]),
            'senet154',
            None,
            TwinError,
            'dcn and plugins are not supported by SENet-154 blocks',
        ),
        (
            dict(R50, plugins=dict(cfg=1)),
            'se_r50',
            None,
            TwinError,
            'plugins must be None or a list',
        ),
        (
            dict(R50, dcn='DCN', stage_with_dcn=(False, True, True, True)),
            'se_r50',
            None,
            TypeError,
            'dcn must be None or a conv config dict',
        ),
        (dict(R50, multi_grid=(1, 2)), 'se_r50', None, TwinError, 'multi_grid must be 3 ints'),
        (
            dict(R50, norm_cfg=dict(type='GN', num_groups=32)),
            'se_r50',
            'seresnet50.a1_in1k',
            TwinError,
            "norm_cfg type 'GN'; timm's weights are BatchNorm .*: arch=se_r50 without timm",
        ),
        (
            dict(R50, num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1), out_indices=(2,)),
            'se_r50',
            'seresnet50',
            TwinError,
            "num_stages=3; timm's weights have 4 stages",
        ),
    ],
)
def test_kept_settings_that_do_not_suit_the_target_are_refused(
    backbone, arch, model_name, error, message
):
    with pytest.raises(error, match=message) as raised:
        kept_fit_target(context(dict(backbone=backbone), arch=arch, model_name=model_name))
    assert isinstance(raised.value, TwinError)  # the command's one line


def test_kept_settings_that_suit_the_target_pass():
    gn = dict(R50, norm_cfg=dict(type='GN', num_groups=32))
    assert kept_fit_target(context(dict(backbone=gn), arch='se_r50')) == []  # untrained
    dcn = dict(R50, dcn=dict(type='DCN'), stage_with_dcn=(False, True, True, True))
    assert kept_fit_target(context(dict(backbone=dcn), arch='se_r50', model_name='x')) == []


def test_init_cfg_is_the_targets_weights_and_none_to_none_is_not_shown():
    untrained = init(context(dict(backbone=R50)))
    assert [c.new for c in untrained] == [None] and shown(untrained) == {}
    local = init(
        context(
            dict(backbone=dict(R50, init_cfg=dict(type='Pretrained'))),
            arch='se_r50',
            model_name='seresnet50',
            checkpoint='/w.pth',
        )
    )
    assert shown(local)['model.backbone.init_cfg'][1] == dict(
        type='se_backbones.TimmPretrained', model_name='seresnet50', checkpoint='/w.pth'
    )


def test_the_frozen_parts_note_names_every_fix():
    base = dict(R50, frozen_stages=1, norm_cfg=dict(type='BN', requires_grad=False))
    [note] = frozen_note(context(dict(backbone=base)))
    assert note.reason.endswith(
        '(set frozen_stages=-1, norm_eval=False, norm_cfg.requires_grad=True to train them)'
    )
    assert (
        frozen_note(
            context(dict(backbone=R50), arch='se_r50', model_name='seresnet50', checkpoint='/w.pth')
        )
        == []
    )


def test_an_mmdet_neck_follows_the_widths():
    assert shown(widths(context(dict(backbone=R50, neck=FPN)))) == {
        'model.neck.in_channels': ([256, 512, 1024, 2048], [64, 128, 256, 512])
    }
    assert widths(context(dict(backbone=R50, neck=FPN), arch='se_x50_32x4d')) == []


@pytest.mark.parametrize('key', ['panoptic_head', 'track_head'])
def test_mmdet_mask2former_maps_as_mmsegs(key):
    head = dict(type='Mask2FormerHead', in_channels=[256, 512, 1024, 2048])
    assert shown(widths(context({'backbone': R50, key: head}))) == {
        f'model.{key}.in_channels': ([256, 512, 1024, 2048], [64, 128, 256, 512])
    }


def test_a_model_without_a_neck_is_refused_with_what_to_do():
    with pytest.raises(
        TwinError,
        match=r"model has no neck: its heads take the backbone's "
        r'features directly .*; not mapped \(an architecture '
        r"with the base's widths keeps them: se_r50, ",
    ):
        widths(context(dict(backbone=R50, bbox_head=dict(type='RetinaHead'))))


def test_mmseg_heads_knet_and_lists():
    knet = dict(
        type='IterativeDecodeHead',
        kernel_generate_head=dict(type='FCNHead', in_channels=2048, in_index=3, channels=512),
    )
    assert shown(widths(context(dict(backbone=R50, decode_head=knet), scope='mmseg'))) == {
        'model.decode_head.kernel_generate_head.in_channels': (2048, 512)
    }  # channels kept
    heads = [dict(type='FCNHead', in_channels=1024, in_index=2, channels=256)] * 2
    changes = widths(context(dict(backbone=R50, auxiliary_head=heads), scope='mmseg'))
    assert [c.key for c in changes if c.shown] == [
        'model.auxiliary_head[0].in_channels',
        'model.auxiliary_head[0].channels',
        'model.auxiliary_head[1].in_channels',
        'model.auxiliary_head[1].channels',
    ]
    assert changes[0].written() == (
        'model.auxiliary_head',
        [dict(type='FCNHead', in_channels=256, in_index=2, channels=64)] * 2,
    )
    with pytest.raises(TwinError, match=r'model.decode_head \(X\) has no in_channels of its own'):
        widths(context(dict(backbone=R50, decode_head=dict(type='X')), scope='mmseg'))


def test_an_mmpretrain_head_follows_the_last_width():
    model = dict(
        backbone=dict(R50, out_indices=(3,)),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', in_channels=2048),
    )
    assert shown(widths(context(model, scope='mmpretrain'))) == {
        'model.head.in_channels': (2048, 512)
    }


def test_the_preprocessor_takes_timms_normalisation():
    model = dict(backbone=R50, data_preprocessor=dict(mean=[0, 0, 0], std=[1, 1, 1]))
    assert shown(preprocessor(context(model, arch='se_r50', model_name='seresnet50.a1_in1k'))) == {
        'model.data_preprocessor.mean': ([0, 0, 0], [123.675, 116.28, 103.53]),
        'model.data_preprocessor.std': ([1, 1, 1], [58.395, 57.12, 57.375]),
        'model.data_preprocessor.bgr_to_rgb': (None, True),
    }
    assert [c.kind for c in preprocessor(context(model))] == ['note']  # untrained: kept
    with pytest.raises(TwinError, match='the base has no data_preprocessor'):
        preprocessor(context(dict(backbone=R50), arch='se_r50', model_name='seresnet50.a1_in1k'))


def test_plain_model_checkpoints_are_dropped():
    changes = plain_model_weights(
        context(
            dict(
                backbone=R50,
                pretrained='open-mmlab://r50',
                init_cfg=dict(type='Pretrained', checkpoint='m'),
            ),
            load_from='plain.pth',
        )
    )
    assert shown(changes) == {
        'model.pretrained': ('open-mmlab://r50', None),
        'model.init_cfg': (dict(type='Pretrained', checkpoint='m'), None),
        'load_from': ('plain.pth', None),
    }
