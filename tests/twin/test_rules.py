"""Each twin rule alone: a base config (a model dict) in, Changes or a refusal out."""

import re

import pytest

from se_backbones.twin import TwinError
from se_backbones.twin.context import context
from se_backbones.twin.render import overrides
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
    with pytest.raises(TwinError) as error:
        refuse_c4_layout(
            context(dict(backbone=R50, roi_head=dict(shared_head=dict(type='ResLayer'))))
        )
    assert str(error.value) == (
        "model.roi_head.shared_head is 'ResLayer', a plain ResNet stage run on the backbone's "
        "last output (C4 layout): its layers and weights are the base ResNet's; not mapped "
        '(use an FPN config)'
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
    assert note.reason == (
        'the base freezes parts of its backbone (frozen_stages=1, norm_eval=True, '
        'norm_cfg.requires_grad=False), settings made for pretrained weights: untrained, those '
        'parts keep their random init (set frozen_stages=-1, norm_eval=False, '
        'norm_cfg.requires_grad=True to train them)'
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


# --- the backbone: what the target decides, what is kept, what is refused --------------------

WHY = "{}'s architecture: the weights decide it"
R50_TYPE = ('ResNet', 'se_backbones.SEResNet')
LEGACY_POOL = dict(kernel_size=3, stride=2, padding=0, ceil_mode=True)


@pytest.mark.parametrize(
    'backbone, scope, arch, expected',
    [
        # a 7x7 stem to timm's tiered deep stem: the stem's width is the target's (written silently)
        (
            R50,
            'mmdet',
            'se_r50t',
            {'type': R50_TYPE, 'deep_stem': (False, True), 'avg_down': (False, True)},
        ),
        # a deep stem to another deep stem: its widths shown
        (
            dict(type='ResNetV1c', depth=50),
            'mmseg',
            'se_r50t',
            {
                'type': ('ResNetV1c', 'se_backbones.SEResNet'),
                'avg_down': (False, True),
                'stem_channels': (64, (24, 32, 64)),
            },
        ),
        # the same stem width (64): not shown; the ECA layer is
        (
            dict(type='ResNetV1c', depth=50),
            'mmseg',
            'eca_r50d',
            {
                'type': ('ResNetV1c', 'se_backbones.SEResNet'),
                'avg_down': (False, True),
                'se_cfg': (None, {'type': 'ECALayer'}),
            },
        ),
        (
            dict(type='ResNetV1d', depth=50),
            'mmseg',
            'se_r50',
            {
                'type': ('ResNetV1d', 'se_backbones.SEResNet'),
                'deep_stem': (True, False),
                'avg_down': (True, False),
            },
        ),
        (
            dict(type='mmdet.ResNeXt', depth=101, groups=32, base_width=4),
            'mmdet',
            'se_x101_32x8d',
            {'type': ('mmdet.ResNeXt', 'se_backbones.SEResNeXt'), 'base_width': (4, 8)},
        ),
        # mmpretrain's width_per_group is base_width: equal, not shown
        (
            dict(type='ResNeXt', depth=50, groups=32, width_per_group=4),
            'mmpretrain',
            'se_x101_32x4d',
            {'type': ('ResNeXt', 'se_backbones.SEResNeXt'), 'depth': (50, 101)},
        ),
        (
            dict(type='ResNeXt', depth=50, groups=32, width_per_group=4),
            'mmpretrain',
            'se_x101_64x4d',
            {'type': ('ResNeXt', 'se_backbones.SEResNeXt'), 'depth': (50, 101), 'groups': (32, 64)},
        ),
        # a deep stem as wide as base_channels (mmdet's default) to our default stem
        (
            dict(type='ResNetV1d', depth=50, base_channels=32),
            'mmdet',
            'eca_r50d',
            {
                'type': ('ResNetV1d', 'se_backbones.SEResNet'),
                'stem_channels': (32, None),
                'base_channels': (32, 64),
                'se_cfg': (None, {'type': 'ECALayer'}),
            },
        ),
        (
            dict(type='ResNeXt', depth=50, groups=32, width_per_group=4),
            'mmpretrain',
            'se_x101_32x8d',
            {
                'type': ('ResNeXt', 'se_backbones.SEResNeXt'),
                'depth': (50, 101),
                'width_per_group': (4, None),
            },
        ),
        (
            R50,
            'mmdet',
            'se_x50_32x4d',
            {'type': ('ResNet', 'se_backbones.SEResNeXt'), 'groups': (1, 32)},
        ),
        (
            dict(R50, base_channels=32),
            'mmdet',
            'se_r50',
            {'type': R50_TYPE, 'base_channels': (32, 64)},
        ),
        (dict(R50, base_channels=64), 'mmdet', 'se_r50', {'type': R50_TYPE}),
        (
            dict(R50, expansion=4),
            'mmpretrain',
            'se_r18',
            {'type': R50_TYPE, 'depth': (50, 18), 'expansion': (4, 1)},
        ),
        (dict(R50, expansion=4), 'mmpretrain', 'se_r50', {'type': R50_TYPE}),
        (
            R50,
            'mmdet',
            'legacy_se_r50',
            {
                'type': R50_TYPE,
                'style': ('pytorch', 'caffe'),
                'stem_pool_cfg': (None, LEGACY_POOL),
                'se_cfg': (None, {'divisor': 1}),
            },
        ),
        (
            R50,
            'mmdet',
            'legacy_se_r18',
            {
                'type': R50_TYPE,
                'depth': (50, 18),
                'stem_pool_cfg': (None, LEGACY_POOL),
                'se_cfg': (None, {'divisor': 1}),
                'act_before_se': (False, True),
            },
        ),
    ],
)
def test_architecture_shows_what_the_target_changes(backbone, scope, arch, expected):
    changes = architecture(context(dict(backbone=backbone), scope=scope, arch=arch))
    assert shown(changes) == {f'model.backbone.{k}': v for k, v in expected.items()}


def test_architecture_writes_the_targets_backbone_with_its_reasons():
    changes = architecture(context(dict(backbone=R50), arch='se_r50t'))
    why = WHY.format('seresnet50t')
    assert [(c.key, c.old, c.new, c.kind, c.reason) for c in changes] == [
        ('model.backbone._delete_', None, True, 'set', 'the base backbone is replaced'),
        ('model.backbone.type', 'ResNet', 'se_backbones.SEResNet', 'changed', f'se_r50t, {why}'),
        ('model.backbone.depth', 50, 50, 'set', why),
        ('model.backbone.deep_stem', False, True, 'changed', why),
        ('model.backbone.avg_down', False, True, 'changed', why),
        ('model.backbone.stem_channels', None, (24, 32, 64), 'set', why),
        ('model.backbone.style', 'pytorch', 'pytorch', 'set', why),
    ]
    assert overrides(changes)[1] == {
        'backbone': dict(
            _delete_=True,
            type='se_backbones.SEResNet',
            depth=50,
            deep_stem=True,
            avg_down=True,
            stem_channels=(24, 32, 64),
            style='pytorch',
        )
    }
    # grouped convs the target has not: shown, not written (the backbone is replaced)
    resnext = dict(type='ResNeXt', depth=50, groups=32, base_width=4)
    changes = architecture(context(dict(backbone=resnext), arch='se_r50'))
    [groups] = [c for c in changes if c.key == 'model.backbone.groups']
    assert str(groups) == (
        "model.backbone.groups: 32 -> 1 (seresnet50's architecture: the weights decide it "
        '(se_r50 has no grouped convs))'
    )
    assert overrides(changes)[1]['backbone'] == dict(
        _delete_=True, type='se_backbones.SEResNet', depth=50, style='pytorch'
    )
    # the target's settings in the order timm names them: type, depth, groups, widths, stem
    resnext = dict(resnext, depth=101)
    changes = architecture(context(dict(backbone=resnext), arch='se_x101d_32x8d'))
    why = WHY.format('seresnext101d_32x8d')
    assert [(c.key, c.old, c.new, c.kind, c.reason) for c in changes][2:5] == [
        ('model.backbone.depth', 101, 101, 'set', why),
        ('model.backbone.groups', 32, 32, 'set', why),
        ('model.backbone.base_width', 4, 8, 'changed', why),
    ]
    assert list(overrides(changes)[1]['backbone'].items()) == [
        ('_delete_', True),
        ('type', 'se_backbones.SEResNeXt'),
        ('depth', 101),
        ('groups', 32),
        ('base_width', 8),
        ('deep_stem', True),
        ('avg_down', True),
        ('style', 'pytorch'),
    ]


@pytest.mark.parametrize(
    'backbone, scope, message',
    [
        (
            dict(type='se_backbones.SEResNet', depth=50),
            'mmdet',
            "model.backbone.type is 'se_backbones.SEResNet': the base is already an SE model",
        ),
        (
            dict(type='RegNet', arch='regnetx_3.2gf'),
            'mmdet',
            "model.backbone.type is 'RegNet', not one of ResNet, ResNetV1c, ResNetV1d, ResNeXt: "
            'only a ResNet-family backbone maps to an SE-ResNet (its stages, widths and '
            'training settings)',
        ),
        (
            dict(depth=50),
            'mmdet',
            'model.backbone.type is None, not one of ResNet, ResNetV1c, ResNetV1d, ResNeXt: '
            'only a ResNet-family backbone maps to an SE-ResNet (its stages, widths and '
            'training settings)',
        ),
        (
            dict(type='ResNetV1c', depth=50),
            'mmdet',
            "model.backbone.type 'ResNetV1c' is not registered in mmdet",
        ),
        # depths the toolkit's class has no settings for (it raises KeyError building them)
        (
            dict(type='ResNet'),
            'mmdet',
            'model.backbone.depth is None, not one of 18, 34, 50, 101, 152: ResNet in mmdet has '
            'no such depth',
        ),
        (
            dict(type='mmseg.ResNetV1c', depth=42),
            'mmseg',
            'model.backbone.depth is 42, not one of 18, 34, 50, 101, 152: mmseg.ResNetV1c in '
            'mmseg has no such depth',
        ),
        (
            dict(type='ResNeXt', depth=18, groups=32, base_width=4),
            'mmpretrain',
            'model.backbone.depth is 18, not one of 50, 101, 152: ResNeXt in mmpretrain has no '
            'such depth',
        ),
    ],
)
def test_backbones_that_do_not_map_are_refused(backbone, scope, message):
    with pytest.raises(TwinError) as error:
        architecture(context(dict(backbone=backbone), scope=scope))
    assert str(error.value) == message


@pytest.mark.parametrize(
    'backbone, scope, arch, expected',
    [
        # set in the base (even at our default), or a class default that differs from ours
        (
            dict(R50, with_cp=False, frozen_stages=-1),
            'mmdet',
            'se_r18',
            dict(frozen_stages=-1, norm_eval=True, with_cp=False),
        ),
        (R50, 'mmpretrain', 'se_r18', dict(out_indices=(3,))),
        (dict(type='ResNetV1c', depth=50), 'mmseg', 'se_r50', {}),
        (
            dict(
                R50,
                num_stages=3,
                strides=(1, 2, 2),
                dilations=(1, 1, 2),
                out_indices=(0, 1, 2),
                zero_init_residual=False,
                in_channels=4,
                conv_cfg=dict(type='ConvWS'),
            ),
            'mmdet',
            'se_x50_32x4d',
            dict(
                num_stages=3,
                strides=(1, 2, 2),
                dilations=(1, 1, 2),
                out_indices=(0, 1, 2),
                conv_cfg=dict(type='ConvWS'),
                norm_eval=True,
                zero_init_residual=False,
                in_channels=4,
            ),
        ),
    ],
)
def test_kept_settings_are_written_as_the_base_has_them(backbone, scope, arch, expected):
    changes = kept(context(dict(backbone=backbone), scope=scope, arch=arch))
    assert {c.key: (c.old, c.new, c.kind, c.reason) for c in changes} == {
        f'model.backbone.{k}': (v, v, 'kept', 'kept from the base') for k, v in expected.items()
    }
    assert shown(changes) == {}
    assert overrides(changes)[1] == ({'backbone': expected} if expected else {})


def test_unknown_arguments_are_refused_together_naming_the_target_class():
    base = dict(R50, foo=1, drop_path_rate=0, bar='x')
    with pytest.raises(TwinError) as error:
        kept(context(dict(backbone=base), arch='se_x50_32x4d'))
    assert str(error.value) == (
        "model.backbone: foo=1, bar='x' has no counterpart in se_backbones.SEResNeXt; not mapped"
    )


@pytest.mark.parametrize(
    'backbone, arch, model_name, message',
    [
        (
            dict(R50, dcn=dict(type='DCN'), stage_with_dcn=(False, True, True, True)),
            'senet154',
            None,
            'model.backbone (senet154): dcn and plugins are not supported by SENet-154 blocks',
        ),
        (
            dict(R50, num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1), out_indices=(2,)),
            'se_r50',
            None,
            None,  # untrained: any number of stages
        ),
        (
            dict(
                R50,
                num_stages=3,
                strides=(1, 2, 2),
                dilations=(1, 1, 1),
                out_indices=(2,),
                multi_grid=(1, 2, 4),
            ),
            'se_r50',
            None,
            r're:model\.backbone \(se_r50\): multi_grid must be .*\b6\b',  # last stage's blocks
        ),
        (  # more stages than a ResNet has: refused as the backbone refuses it
            dict(R50, num_stages=5),
            'se_r50',
            None,
            r're:model\.backbone \(se_r50\): stage_with_dcn must be a sequence of 5 bools',
        ),
        (
            dict(R50, in_channels=4),
            'se_r50',
            'seresnet50.a1_in1k',
            "model.backbone: in_channels=4; timm's weights take 3-channel images: "
            'arch=se_r50 without timm and checkpoint maps it untrained',
        ),
        (
            dict(R50, conv_cfg=dict(type='ConvWS')),
            'se_r50',
            'seresnet50.a1_in1k',
            "model.backbone: conv_cfg type 'ConvWS'; timm's weights were trained with plain "
            'convolutions: arch=se_r50 without timm and checkpoint maps it untrained',
        ),
        (
            dict(R50, norm_cfg=dict(type='GN', num_groups=32)),
            'se_r50',
            'seresnet50.a1_in1k',
            "model.backbone: norm_cfg type 'GN'; timm's weights are BatchNorm (weights and "
            'running statistics): arch=se_r50 without timm and checkpoint maps it untrained',
        ),
        (
            dict(R50, num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1), out_indices=(2,)),
            'se_r50',
            'seresnet50.a1_in1k',
            "model.backbone: num_stages=3; timm's weights have 4 stages: arch=se_r50 without timm "
            'and checkpoint maps it untrained',
        ),
    ],
)
def test_kept_settings_against_the_target_blocks_and_weights(backbone, arch, model_name, message):
    ctx = context(dict(backbone=backbone), arch=arch, model_name=model_name)
    if message is None:
        assert kept_fit_target(ctx) == []
        return
    with pytest.raises(TwinError) as error:
        kept_fit_target(ctx)
    if message.startswith('re:'):
        assert re.match(message[3:], str(error.value)), str(error.value)
    else:
        assert str(error.value) == message


@pytest.mark.parametrize(
    'backbone, arch, model_name',
    [
        # SENet-154 without DCN stages or plugins; mmdet ignores stage_with_dcn without dcn
        (dict(R50, dcn=dict(type='DCN'), stage_with_dcn=(False,) * 4), 'senet154', None),
        (dict(R50, stage_with_dcn=(False, True, True, True)), 'senet154', None),
        (dict(R50, multi_grid=(1, 2, 4)), 'se_r50', None),  # 3 blocks in the last stage
        # BatchNorm of any kind, plain convolutions by any name, the default norm and conv
        (dict(R50, norm_cfg=dict(type='SyncBN')), 'se_r50', 'seresnet50'),
        (dict(R50, norm_cfg=None, conv_cfg=dict(type='Conv')), 'se_r50', 'seresnet50'),
        (dict(R50, conv_cfg=dict(type='Conv2d'), in_channels=3), 'se_r50', 'seresnet50'),
    ],
)
def test_kept_settings_that_fit_pass(backbone, arch, model_name):
    assert kept_fit_target(context(dict(backbone=backbone), arch=arch, model_name=model_name)) == []


# --- init_cfg and the frozen parts note -------------------------------------------------------


@pytest.mark.parametrize(
    'backbone, model_name, checkpoint, expected',
    [
        (
            dict(R50, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
            None,
            None,
            [
                (
                    'model.backbone.init_cfg',
                    dict(type='Pretrained', checkpoint='torchvision://resnet50'),
                    None,
                    'no weights for arch alone: the backbone starts untrained',
                )
            ],
        ),
        (
            dict(R50, pretrained='torchvision://resnet50'),
            'seresnet50.a1_in1k',
            None,
            [
                (
                    'model.backbone.init_cfg',
                    None,
                    dict(
                        type='se_backbones.TimmPretrained',
                        model_name='seresnet50.a1_in1k',
                        missing_ok=True,
                    ),
                    'ImageNet SE weights from timm; missing_ok: offline, training continues '
                    'from the default init (logged)',
                ),
                (
                    'model.backbone.pretrained',
                    'torchvision://resnet50',
                    None,
                    'plain-ResNet weights; init_cfg takes over',
                ),
            ],
        ),
        (
            R50,
            'seresnet50',
            '/w.pth',
            [
                (
                    'model.backbone.init_cfg',
                    None,
                    dict(
                        type='se_backbones.TimmPretrained',
                        model_name='seresnet50',
                        checkpoint='/w.pth',
                    ),
                    'seresnet50 weights from the local file',
                )
            ],
        ),
    ],
)
def test_init_cfg_changes(backbone, model_name, checkpoint, expected):
    changes = init(
        context(
            dict(backbone=backbone), arch='se_r50', model_name=model_name, checkpoint=checkpoint
        )
    )
    assert [(c.key, c.old, c.new, c.reason) for c in changes] == expected
    assert all(c.kind == 'changed' for c in changes)
    # the init_cfg is written; a plain ResNet's pretrained goes with the replaced backbone
    assert overrides(changes)[1] == {'backbone': {'init_cfg': expected[0][2]}}


@pytest.mark.parametrize(
    'backbone, scope, model_name, note',
    [
        (dict(type='ResNetV1c', depth=50), 'mmseg', None, None),
        (dict(type='ResNetV1c', depth=50, norm_cfg=dict(type='BN')), 'mmseg', None, None),
        (
            dict(type='ResNetV1c', depth=50, frozen_stages=0),
            'mmseg',
            None,
            'the base freezes parts of its backbone (frozen_stages=0), settings made for '
            'pretrained weights: untrained, those parts keep their random init (set '
            'frozen_stages=-1 to train them)',
        ),
        (
            R50,
            'mmdet',
            None,
            'the base freezes parts of its backbone (norm_eval=True), settings made for '
            'pretrained weights: untrained, those parts keep their random init (set '
            'norm_eval=False to train them)',
        ),
        (
            dict(R50, frozen_stages=1),
            'mmdet',
            'seresnet50.a1_in1k',
            'the base freezes parts of its backbone (frozen_stages=1, norm_eval=True): if timm '
            'cannot provide the weights (offline, not cached), missing_ok trains on from random '
            'init with those parts frozen; pass the weights file with checkpoint=PATH, or set '
            'frozen_stages=-1, norm_eval=False',
        ),
    ],
)
def test_the_frozen_parts_note(backbone, scope, model_name, note):
    changes = frozen_note(
        context(dict(backbone=backbone), scope=scope, arch='se_r50', model_name=model_name)
    )
    assert [c.reason for c in changes] == ([note] if note else [])
    assert all(c.kind == 'note' and c.written() is None for c in changes)


# --- the widths downstream ---------------------------------------------------------------------

OLD, NEW = [256, 512, 1024, 2048], [64, 128, 256, 512]  # R50 -> se_r18
SCALED = "a single-input head's width scales with its input, as in mmseg's R18 configs"
HINT = "; not mapped (an architecture with the base's widths keeps them: se_r50, "


@pytest.mark.parametrize(
    'model, scope, expected',
    [
        # a tuple stays a tuple
        (
            dict(backbone=R50, neck=dict(FPN, in_channels=tuple(OLD))),
            'mmdet',
            {'model.neck.in_channels': (tuple(OLD), tuple(NEW))},
        ),
        # single-width necks (YOLOF's DilatedEncoder) and some outputs (a ChannelMapper)
        (
            dict(
                backbone=dict(R50, out_indices=(3,)),
                neck=dict(type='DilatedEncoder', in_channels=2048),
            ),
            'mmdet',
            {'model.neck.in_channels': (2048, 512)},
        ),
        (
            dict(
                backbone=dict(R50, out_indices=(1, 2, 3)),
                neck=dict(type='ChannelMapper', in_channels=[512, 1024, 2048]),
            ),
            'mmdet',
            {'model.neck.in_channels': ([512, 1024, 2048], [128, 256, 512])},
        ),
        # the neck ends the backbone's widths: the heads after it are not touched
        (
            dict(
                backbone=R50,
                neck=FPN,
                panoptic_head=dict(type='X', in_channels=OLD),
                track_head=dict(type='Y', in_channels=OLD),
            ),
            'mmdet',
            {'model.neck.in_channels': (OLD, NEW)},
        ),
        # a list of necks: the first takes the backbone's widths
        (
            dict(backbone=R50, neck=[FPN, dict(type='BFP', in_channels=256)]),
            'mmdet',
            {'model.neck[0].in_channels': (OLD, NEW)},
        ),
        (
            dict(
                backbone=dict(R50, num_stages=3, out_indices=(0, 1, 2)),
                neck=dict(FPN, in_channels=OLD[:3]),
            ),
            'mmdet',
            {'model.neck.in_channels': (OLD[:3], NEW[:3])},
        ),
        (
            dict(
                backbone=dict(R50, base_channels=32),
                neck=dict(FPN, in_channels=[128, 256, 512, 1024]),
            ),
            'mmdet',
            {'model.neck.in_channels': ([128, 256, 512, 1024], NEW)},
        ),
        # mmseg: a single-input head at in_index (default -1) scales channels as mmseg's R18s
        (
            dict(backbone=R50, decode_head=dict(type='FCNHead', in_channels=2048, channels=512)),
            'mmseg',
            {
                'model.decode_head.in_channels': (2048, 512),
                'model.decode_head.channels': (512, 128),
            },
        ),
        (
            dict(
                backbone=R50,
                decode_head=dict(type='FCNHead', in_channels=256, in_index=-4, channels=50),
            ),
            'mmseg',
            {'model.decode_head.in_channels': (256, 64)},  # 12.5 channels: kept
        ),
        (
            dict(
                backbone=R50,
                decode_head=dict(
                    type='DepthwiseSeparableASPPHead',
                    in_channels=2048,
                    in_index=3,
                    channels=512,
                    c1_in_channels=256,
                    c1_channels=48,
                ),
            ),
            'mmseg',
            {
                'model.decode_head.in_channels': (2048, 512),
                'model.decode_head.channels': (512, 128),
                'model.decode_head.c1_in_channels': (256, 64),
                'model.decode_head.c1_channels': (48, 12),
            },
        ),
        # multi-level heads: some outputs, or all of them (Mask2Former): channels kept
        (
            dict(
                backbone=R50,
                decode_head=dict(
                    type='PSAHead', in_channels=(512, 1024, 2048), in_index=(1, 2, 3), channels=512
                ),
            ),
            'mmseg',
            {'model.decode_head.in_channels': ((512, 1024, 2048), (128, 256, 512))},
        ),
        (
            dict(
                backbone=R50,
                decode_head=dict(type='UPerHead', in_channels=OLD, in_index=[0, 1, 2, 3]),
            ),
            'mmseg',
            {'model.decode_head.in_channels': (OLD, NEW)},
        ),
        (
            dict(backbone=R50, decode_head=dict(type='Mask2FormerHead', in_channels=OLD)),
            'mmseg',
            {'model.decode_head.in_channels': (OLD, NEW)},
        ),
        # an mmseg FPN neck ends them
        (
            dict(backbone=R50, neck=FPN, decode_head=dict(type='FPNHead', in_channels=[256] * 4)),
            'mmseg',
            {'model.neck.in_channels': (OLD, NEW)},
        ),
        (
            dict(
                backbone=dict(R50, out_indices=3),
                neck=[dict(type='GeneralizedMeanPooling')],
                head=dict(type='LinearClsHead', in_channels=2048),
            ),
            'mmpretrain',
            {'model.head.in_channels': (2048, 512)},
        ),
        (
            dict(
                backbone=dict(R50, out_indices=(3,), expansion=2),
                head=dict(type='LinearClsHead', in_channels=1024),
            ),
            'mmpretrain',
            {'model.head.in_channels': (1024, 512)},
        ),
    ],
)
def test_the_widths_go_where_the_backbones_features_go(model, scope, expected):
    changes = widths(context(model, scope=scope))
    assert shown(changes) == expected


def test_the_widths_reason_names_the_target_and_out_indices():
    model = dict(
        backbone=dict(R50, out_indices=3),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', in_channels=2048),
    )
    [change] = widths(context(model, scope='mmpretrain'))
    assert change.reason == 'se_r18 widths [512] at out_indices (3,), not [2048]'
    [change] = widths(context(dict(backbone=R50, neck=FPN)))
    assert change.reason == (
        'se_r18 widths [64, 128, 256, 512] at out_indices (0, 1, 2, 3), not [256, 512, 1024, 2048]'
    )
    # a list of necks is written whole: the first mapped, the others as they are
    changes = widths(context(dict(backbone=R50, neck=[FPN, dict(type='BFP', in_channels=256)])))
    assert overrides(changes)[1] == {
        'neck': [dict(FPN, in_channels=NEW), dict(type='BFP', in_channels=256)]
    }


@pytest.mark.parametrize(
    'model, scope, message',
    [
        (
            dict(backbone=R50, neck=dict(type='ChannelMapper')),
            'mmdet',
            'model.neck (ChannelMapper) has no in_channels: which later module takes the '
            "backbone's widths [256, 512, 1024, 2048] is not known",
        ),
        (
            dict(backbone=R50, neck=dict(type='FPN', in_channels=[1, 2])),
            'mmdet',
            "model.neck.in_channels=[1, 2] (FPN) is not the base backbone's output widths "
            '[256, 512, 1024, 2048]',
        ),
        (
            dict(backbone=R50, neck=dict(type='FPN', in_channels=1024)),
            'mmdet',
            "model.neck.in_channels=1024 (FPN) is not the base backbone's output widths "
            '[256, 512, 1024, 2048]',
        ),
        (
            dict(backbone=R50, neck=[dict(type='JPU', in_channels=OLD[1:]), FPN]),
            'mmseg',
            "model.neck type 'JPU': its outputs may carry the backbone's widths on to the heads "
            '(mapped necks: FPN)',
        ),
        (
            dict(backbone=R50, decode_head=dict(type='FCNHead', in_channels=2048, in_index=4)),
            'mmseg',
            'model.decode_head (FCNHead) takes in_channels=2048 from backbone outputs 4, which '
            "are not the base backbone's widths [256, 512, 1024, 2048] there",
        ),
        (
            dict(backbone=R50, decode_head=dict(type='FCNHead', in_channels=2048, in_index=-5)),
            'mmseg',
            'model.decode_head (FCNHead) takes in_channels=2048 from backbone outputs -5, which '
            "are not the base backbone's widths [256, 512, 1024, 2048] there",
        ),
        (
            dict(backbone=R50, decode_head=dict(type='X', in_channels=[2048], in_index=[4])),
            'mmseg',
            'model.decode_head (X) takes in_channels=[2048] from backbone outputs [4], which '
            "are not the base backbone's widths [256, 512, 1024, 2048] there",
        ),
        (
            dict(backbone=R50, decode_head=dict(type='X', in_channels=[1024], in_index=[3])),
            'mmseg',
            'model.decode_head (X) takes in_channels=[1024] from backbone outputs [3], which '
            "are not the base backbone's widths [256, 512, 1024, 2048] there",
        ),
        (
            dict(
                backbone=R50,
                decode_head=dict(type='X', in_channels=2048, c1_in_channels=128, c1_channels=48),
            ),
            'mmseg',
            "model.decode_head.c1_in_channels=128 is not the base backbone's first width 256",
        ),
        (
            dict(backbone=R50, bbox_head=dict(type='FCNHead')),
            'mmseg',
            "model has no neck or head that takes the backbone's features (widths "
            '[256, 512, 1024, 2048] -> [64, 128, 256, 512])',
        ),
        (
            dict(backbone=R50, neck=dict(type='LinearNeck'), head=dict(in_channels=2048)),
            'mmpretrain',
            "model.neck type 'LinearNeck': its input width is not known (mapped: "
            'GlobalAveragePooling, GeneralizedMeanPooling)',
        ),
        (
            dict(backbone=R50, head=dict(type='LinearClsHead', in_channels=1024)),
            'mmpretrain',
            "model.head.in_channels=1024 is not the base backbone's last width 2048",
        ),
        (
            dict(backbone=R50, neck=dict(type='GlobalAveragePooling')),
            'mmpretrain',
            "model has no head that takes the backbone's features (widths [2048] -> [512])",
        ),
    ],
)
def test_widths_with_no_known_consumer_are_refused(model, scope, message):
    with pytest.raises(TwinError) as error:
        widths(context(model, scope=scope))
    assert str(error.value).startswith(message + HINT), str(error.value)


# --- the data preprocessor and checkpoints of the plain model ---------------------------------

IMAGENET = ([123.675, 116.28, 103.53], [58.395, 57.12, 57.375])
TIMM_NORM = 'timm seresnet50.a1_in1k pretrained_cfg mean/std x 255'


@pytest.mark.parametrize(
    'model, scope, top, expected',
    [
        # mmpretrain: a top-level data_preprocessor, its own key for the colour order
        (
            dict(backbone=R50),
            'mmpretrain',
            dict(data_preprocessor=dict(mean=[1, 2, 3], std=IMAGENET[1], to_rgb=True)),
            {'data_preprocessor.mean': ([1, 2, 3], IMAGENET[0], TIMM_NORM)},
        ),
        (
            dict(backbone=R50, data_preprocessor=dict(type='ClsDataPreprocessor')),
            'mmpretrain',
            {},
            {
                'model.data_preprocessor.mean': (None, IMAGENET[0], TIMM_NORM),
                'model.data_preprocessor.std': (None, IMAGENET[1], TIMM_NORM),
                'model.data_preprocessor.to_rgb': (None, True, "timm's weights take RGB input"),
            },
        ),
        # the colour-order key the preprocessor has, whatever the toolkit's usual one
        (
            dict(
                backbone=R50,
                data_preprocessor=dict(mean=IMAGENET[0], std=IMAGENET[1], bgr_to_rgb=False),
            ),
            'mmpretrain',
            {},
            {'model.data_preprocessor.bgr_to_rgb': (False, True, "timm's weights take RGB input")},
        ),
        (
            dict(
                backbone=R50,
                data_preprocessor=dict(mean=IMAGENET[0], std=IMAGENET[1], bgr_to_rgb=False),
            ),
            'mmseg',
            dict(data_preprocessor=dict(mean=tuple(IMAGENET[0]), std=IMAGENET[1], to_rgb=True)),
            {'model.data_preprocessor.bgr_to_rgb': (False, True, "timm's weights take RGB input")},
        ),
    ],
)
def test_the_preprocessors_take_timms_normalisation(model, scope, top, expected):
    ctx = context(model, scope=scope, arch='se_r50', model_name='seresnet50.a1_in1k', **top)
    changes = preprocessor(ctx)
    assert {c.key: (c.old, c.new, c.reason) for c in changes} == expected  # equal ones: none
    assert all(c.shown for c in changes)


def test_untrained_the_preprocessor_is_kept_and_a_base_without_one_is_refused():
    model = dict(backbone=R50, data_preprocessor=dict(mean=[0, 0, 0]))
    [note] = preprocessor(context(model))
    assert (note.kind, note.reason) == (
        'note',
        "untrained: the data preprocessor keeps the base's normalisation",
    )
    with pytest.raises(TwinError) as error:
        preprocessor(
            context(
                dict(backbone=R50),
                arch='se_r50',
                model_name='seresnet50.a1_in1k',
                data_preprocessor=None,
            )
        )
    assert str(error.value) == (
        'the base has no data_preprocessor (model.data_preprocessor or a top-level one) to set '
        "the weights' normalisation in; not mapped"
    )


def test_plain_model_weights_reasons_and_what_is_left_alone():
    changes = plain_model_weights(
        context(
            dict(
                backbone=R50, pretrained='r50.pth', init_cfg=dict(type='Pretrained', checkpoint='m')
            ),
            load_from='plain.pth',
        )
    )
    plain = (
        'a checkpoint of the base model (plain ResNet backbone): it would overwrite the SE weights'
    )
    assert [(c.key, c.reason) for c in changes] == [
        (
            'model.pretrained',
            'plain-ResNet weights the model would hand to the backbone over its init_cfg',
        ),
        ('model.init_cfg', plain),
        ('load_from', plain),
    ]
    assert overrides(changes) == ({'load_from': None}, {'pretrained': None, 'init_cfg': None})
    # another init_cfg (not a checkpoint), and no checkpoints: nothing to do
    kaiming = dict(backbone=R50, pretrained=None, init_cfg=dict(type='Kaiming', layer='Conv2d'))
    assert plain_model_weights(context(kaiming, load_from=None)) == []
    assert (
        plain_model_weights(context(dict(backbone=R50, init_cfg=[dict(type='Pretrained')]))) == []
    )


def test_knet_heads_in_a_list_are_written_whole_and_a_heads_own_in_channels_come_first():
    inner = dict(type='FCNHead', in_channels=2048, in_index=3, channels=512)
    knet = dict(type='IterativeDecodeHead', num_stages=3, kernel_generate_head=inner)
    fcn = dict(type='FCNHead', in_channels=1024, in_index=2, channels=256)
    changes = widths(context(dict(backbone=R50, auxiliary_head=[knet, fcn]), scope='mmseg'))
    reason = (
        'se_r18 widths [64, 128, 256, 512] at out_indices (0, 1, 2, 3), not [256, 512, 1024, 2048]'
    )
    assert [c.reason for c in changes] == [reason, reason, SCALED]
    assert overrides(changes)[1] == {
        'auxiliary_head': [
            dict(knet, kernel_generate_head=dict(inner, in_channels=512)),
            dict(fcn, in_channels=256, channels=64),
        ]
    }
    # a head with in_channels of its own takes the widths itself
    own = dict(type='X', in_channels=2048, channels=512, kernel_generate_head=inner)
    assert shown(widths(context(dict(backbone=R50, decode_head=own), scope='mmseg'))) == {
        'model.decode_head.in_channels': (2048, 512),
        'model.decode_head.channels': (512, 128),
    }


def test_mmseg_heads_each_take_their_widths_with_their_reasons():
    model = dict(
        backbone=R50,
        decode_head=dict(type='X', in_channels=[256], in_index=[-4], channels=128),
        auxiliary_head=dict(type='FCNHead', in_channels=1024, in_index=2, channels=256),
    )
    changes = widths(context(model, scope='mmseg'))
    reason = (
        'se_r18 widths [64, 128, 256, 512] at out_indices (0, 1, 2, 3), not [256, 512, 1024, 2048]'
    )
    scaled = "a single-input head's width scales with its input, as in mmseg's R18 configs"
    assert [(c.key, c.old, c.new, c.reason) for c in changes] == [
        ('model.decode_head.in_channels', [256], [64], reason),
        ('model.auxiliary_head.in_channels', 1024, 256, reason),
        ('model.auxiliary_head.channels', 256, 64, scaled),
    ]


def test_a_three_stage_basic_block_base_maps_by_its_own_widths():
    """The base's widths come from its depth (basic blocks: no expansion) and its num_stages:
    a 3-stage ResNet-18 has widths [64, 128, 256], and an index past them is not mapped."""
    r18 = dict(
        type='ResNetV1c',
        depth=18,
        num_stages=3,
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        out_indices=(0, 1, 2),
    )
    head = dict(type='FCNHead', in_channels=256, in_index=2, channels=64, num_classes=2)
    model = dict(backbone=r18, decode_head=head)
    assert shown(widths(context(model, scope='mmseg', arch='se_r50'))) == {
        'model.decode_head.in_channels': (256, 1024),
        'model.decode_head.channels': (64, 256),
    }
    model['decode_head'] = dict(head, in_channels=512, in_index=3)
    with pytest.raises(TwinError) as info:
        widths(context(model, scope='mmseg', arch='se_r50'))
    assert str(info.value) == (
        'model.decode_head (FCNHead) takes in_channels=512 from backbone outputs 3, which are '
        "not the base backbone's widths [64, 128, 256] there; not mapped (an architecture with "
        "the base's widths keeps them: legacy_se_r18, legacy_se_r34)"
    )
