"""Bad arguments fail at build time with one line naming the argument, the value and what is
allowed; random valid ones build and run (hypothesis)."""

import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from se_backbones import ECALayer, SELayer, SEResNet, SEResNeXt

# (class, arguments, error type, the argument named in the message, what the message allows)
BAD = [
    (SELayer, dict(channels=0), ValueError, 'channels', 'a positive int'),
    (SELayer, dict(channels=16.0), ValueError, 'channels', 'a positive int'),
    (SELayer, dict(channels=True), ValueError, 'channels', 'a positive int'),
    (SELayer, dict(channels=16, ratio=0), ValueError, 'ratio', 'a positive number'),
    (SELayer, dict(channels=16, ratio='16'), ValueError, 'ratio', 'a positive number'),
    (SELayer, dict(channels=16, divisor=0), ValueError, 'divisor', 'a positive int'),
    (
        SELayer,
        dict(channels=16, squeeze_channels=-1),
        ValueError,
        'squeeze_channels',
        'a positive int',
    ),
    (SELayer, dict(channels=16, bias='yes'), ValueError, 'bias', "'auto', True or False"),
    (
        SELayer,
        dict(channels=16, act_cfg=[dict(type='ReLU')]),
        ValueError,
        'act_cfg',
        'a pair of dicts',
    ),
    (SELayer, dict(channels=16, act_cfg='ReLU'), ValueError, 'act_cfg', 'a pair of dicts'),
    (
        SELayer,
        dict(channels=16, act_cfg=dict(type='Relu')),
        ValueError,
        r'act_cfg\[0\]',
        'registered activation type',
    ),
    (
        SELayer,
        dict(channels=16, act_cfg=(dict(type='ReLU'), dict(typ='Sigmoid'))),
        TypeError,
        r'act_cfg\[1\]',
        'registered activation type',
    ),
    (
        SELayer,
        dict(channels=16, conv_cfg=dict(type='Conv3x3')),
        ValueError,
        'conv_cfg',
        'registered conv type',
    ),
    (SEResNet, dict(depth=20), ValueError, 'depth', 'one of 18, 26, 34, 50'),
    (SEResNet, dict(depth='50'), ValueError, 'depth', 'one of 18, 26, 34, 50'),
    (SEResNet, dict(depth=50, num_stages=5), ValueError, 'num_stages', 'one of 1, 2, 3, 4'),
    (SEResNet, dict(depth=50, se_ratio=0), ValueError, 'se_ratio', 'one positive int or 4'),
    (SEResNet, dict(depth=50, se_ratio=1.5), ValueError, 'se_ratio', 'one positive int or 4'),
    (SEResNet, dict(depth=50, se_cfg=dict(divisor=0)), ValueError, 'divisor', 'a positive int'),
    (
        SEResNet,
        dict(depth=50, se_ratio=(16, 16)),
        ValueError,
        'se_ratio',
        'one positive int or 4 of them',
    ),
    (
        SEResNet,
        dict(
            depth=50,
            num_stages=3,
            strides=(1, 2, 2),
            dilations=(1, 1, 1),
            out_indices=(2,),
            stage_with_se=(True,) * 4,
        ),
        ValueError,
        'stage_with_se',
        'one bool or 3 of them',
    ),
    (
        SEResNet,
        dict(depth=50, stage_with_se=(2, 1, 1, 1)),
        ValueError,
        'stage_with_se',
        'one bool or 4',
    ),
    (SEResNet, dict(depth=50, se_cfg=[('ratio', 8)]), TypeError, 'se_cfg', 'None or a dict'),
    (SEResNet, dict(depth=50, se_cfg=dict(ratio=8)), ValueError, 'se_cfg', "free of 'ratio'"),
    (
        SEResNet,
        dict(depth=50, se_cfg=dict(channels=64)),
        ValueError,
        'se_cfg',
        "free of 'channels' \\(it comes from the block width and se_ratio\\)",
    ),
    (
        SEResNet,
        dict(depth=50, se_cfg=dict(act_cfg=dict(type='Sigmoidd'))),
        ValueError,
        r'act_cfg\[0\]',
        'registered activation type',
    ),
    (
        SEResNet,
        dict(depth=50, se_cfg=dict(act_cfg=dict(type='Sigmoidd'))),
        ValueError,
        r'act_cfg\[0\]',
        "'Sigmoidd' is not registered; did you mean 'Sigmoid'",
    ),
    (
        SEResNet,
        dict(depth=50, norm_cfg=dict(type='BatchNorm')),
        ValueError,
        'norm_cfg',
        r"registered norm type .*\('BatchNorm' is not registered\)$",
    ),
    (SEResNet, dict(depth=50, style='tf'), ValueError, 'style', "one of 'pytorch', 'caffe'"),
    (SEResNet, dict(depth=50, strides=(1, 2, 2)), ValueError, 'strides', '4 ints >= 1'),
    (SEResNet, dict(depth=50, dilations=(1, 1, 0, 1)), ValueError, 'dilations', '4 ints >= 1'),
    (SEResNet, dict(depth=50, out_indices=(0, 4)), ValueError, 'out_indices', r'ints in \[0, 3\]'),
    (SEResNet, dict(depth=50, out_indices=3), ValueError, 'out_indices', 'sequence of ints'),
    (SEResNet, dict(depth=50, out_indices=(1, 1)), ValueError, 'out_indices', 'distinct'),
    (
        SEResNet,
        dict(depth=50, frozen_stages=5),
        ValueError,
        'frozen_stages',
        r'an int in \[-1, 4\]',
    ),
    (SEResNet, dict(depth=50, deep_stem='yes'), TypeError, 'deep_stem', 'True or False'),
    (SEResNet, dict(depth=50, with_cp=2), TypeError, 'with_cp', 'True or False'),
    (SEResNet, dict(depth=50, norm_eval=None), TypeError, 'norm_eval', 'True or False'),
    (SEResNet, dict(depth=50, act_before_se='no'), TypeError, 'act_before_se', 'True or False'),
    (
        SEResNet,
        dict(depth=50, norm_cfg=dict(type='BatchNorm')),
        ValueError,
        'norm_cfg',
        'registered norm type',
    ),
    (SEResNet, dict(depth=50, norm_cfg='BN'), TypeError, 'norm_cfg', 'registered norm type'),
    (
        SEResNet,
        dict(depth=50, conv_cfg=dict(type='Conv9d')),
        ValueError,
        'conv_cfg',
        'registered conv type',
    ),
    (SEResNet, dict(depth=50, in_channels=0), ValueError, 'in_channels', 'a positive int'),
    (SEResNet, dict(depth=50, base_channels=32.5), ValueError, 'base_channels', 'a positive int'),
    (
        SEResNet,
        dict(depth=50, stem_channels=(32, 64)),
        ValueError,
        'stem_channels',
        'one positive int',
    ),
    (
        SEResNet,
        dict(depth=50, deep_stem=True, stem_channels=(32, 64)),
        ValueError,
        'stem_channels',
        '3 ints',
    ),
    (SEResNet, dict(depth=50, stem_channels=-64), ValueError, 'stem_channels', 'positive int'),
    (SEResNet, dict(depth=50, stem_pool_cfg=3), TypeError, 'stem_pool_cfg', 'a dict'),
    (
        SEResNet,
        dict(depth=50, dcn=True, stage_with_dcn=(False, True, True, True)),
        TypeError,
        'dcn',
        r"None or a conv config dict \(e\.g\. dict\(type='DCN', deform_groups=1, "
        r'fallback_on_stride=False\)\), got True$',
    ),
    (
        SEResNet,
        dict(depth=50, dcn=dict(deform_groups=1), stage_with_dcn=(False, False, False, True)),
        TypeError,
        'dcn',
        r"None or a conv config dict \(e\.g\. dict\(type='DCN', deform_groups=1, "
        r"fallback_on_stride=False\)\), got \{'deform_groups': 1\}$",
    ),
    (
        SEResNet,
        dict(depth=50, dcn=dict(type='DCN'), stage_with_dcn=(False,) * 5),
        ValueError,
        'stage_with_dcn',
        r'one bool or 4 of them \(one per stage, num_stages=4\), got \(False, False, False, '
        r'False, False\)$',
    ),
    (
        SEResNet,
        dict(depth=18, dcn=dict(type='DCN'), stage_with_dcn=(False, True, True, True)),
        ValueError,
        'stage_with_dcn',
        r'all False with basic blocks \(depth 18, 34: DCN needs bottleneck blocks\), got '
        r'\(False, True, True, True\)$',
    ),
    (
        SEResNet,
        dict(
            depth=50,
            dcn=dict(type='DCN'),
            stage_with_dcn=(False, True, True, True),
            conv_cfg=dict(type='Conv2d'),
        ),
        ValueError,
        'conv_cfg',
        r"None with DCN stages \(mmdet builds their 3x3 convs from dcn\), got \{'type': "
        r"'Conv2d'\}$",
    ),
    (
        SEResNet,
        dict(depth=50, dcn=dict(type='DCN'), stage_with_dcn=(True,)),
        ValueError,
        'stage_with_dcn',
        'a sequence of 4 bools',
    ),
    (
        SEResNet,
        dict(depth=50, stage_with_dcn=True),
        ValueError,
        'stage_with_dcn',
        r'a sequence of 4 bools \(one per stage\), e\.g\. \(True, True, True, True\), got True$',
    ),
    (
        SEResNet,
        dict(depth=50, se_cfg=dict(divisr=8)),
        TypeError,
        'se_cfg of SELayer',
        "did you mean 'divisor'",
    ),
    (SEResNeXt, dict(depth=50, width_per_group=4), TypeError, 'width_per_group', 'base_width here'),
    (
        SEResNet,
        dict(depth=50, num_stages=2),
        ValueError,
        'strides',
        'with num_stages=2 set strides and dilations too',
    ),
    (SEResNet, dict(depth=50, norm_cfg=dict(type='LN')), ValueError, 'norm_cfg', 'BN'),
    (
        SEResNet,
        dict(
            depth=50, plugins=[dict(cfg=dict(type='GeneralizedAttention'), position='after_conv4')]
        ),
        ValueError,
        'plugins',
        r"None or a list of dict\(cfg=dict\(type=\.\.\.\), position=one of \('after_conv1', "
        r"'after_conv2', 'after_conv3'\), stages=optional\), with bottleneck blocks "
        r"\(depth >= 26\), got \[\{'cfg'",
    ),
    (
        SEResNet,
        dict(
            depth=50,
            plugins=[
                dict(
                    cfg=dict(type='ContextBlock', ratio=1 / 4),
                    position='after_conv3',
                    stages=(True,) * 3,
                )
            ],
        ),
        ValueError,
        r'plugins\[\]\.stages',
        r'must be one bool or 4 of them \(one per stage, num_stages=4\), got \(True, True, '
        r'True\)$',
    ),
    (
        SEResNet,
        dict(
            depth=18,
            plugins=[dict(cfg=dict(type='ContextBlock', ratio=1 / 4), position='after_conv1')],
        ),
        ValueError,
        'plugins',
        'bottleneck blocks',
    ),
    (SEResNet, dict(depth=50, multi_grid=(1, 2)), ValueError, 'multi_grid', '3 ints'),
    (
        SEResNet,
        dict(depth=50, pretrained=1),
        TypeError,
        'pretrained',
        r"None, a checkpoint path or 'timm://<name>', got 1$",
    ),
    (SEResNet, dict(depth=50, init_cfg='Kaiming'), TypeError, 'init_cfg', 'a list of dicts'),
    (
        SEResNet,
        dict(depth=50, init_cfg=[1]),
        TypeError,
        'init_cfg',
        r'None, a dict or a list of dicts, got \[1\]$',
    ),
    (
        SEResNet,
        dict(depth=50, norm_cfg=dict(type='LN')),
        ValueError,
        'norm_cfg',
        r'a norm for conv feature maps, e\.g\. BN, SyncBN, GN, IN \(LN normalises the last '
        r"dimension, the width\), got \{'type': 'LN'\}$",
    ),
    (SEResNet, dict(depth=50, stride=2), TypeError, 'unknown argument', 'strides'),
    (
        SEResNet,
        dict(depth=50, se_ratios=8),
        TypeError,
        "unknown argument 'se_ratios'",
        r"did you mean 'se_ratio'\?.*allowed: .*se_position, se_ratio, stage_with_dcn, "
        'stage_with_se',
    ),
    (
        SEResNet,
        dict(depth=50, groups=32),
        TypeError,
        "unknown argument 'groups'",
        "type='se_backbones.SEResNeXt'",
    ),
    (
        SEResNet,
        dict(depth=50, base_width=4),
        TypeError,
        "unknown argument 'base_width'",
        'se_backbones.SEResNeXt',
    ),
    (
        SEResNeXt,
        dict(depth=50, group=32),
        TypeError,
        "unknown argument 'group'",
        r"did you mean 'groups'\?.*allowed: .*base_width",
    ),
    (
        SEResNet,
        dict(depth=50, norm_cfg=dict(type='GN', num_groups=48)),
        ValueError,
        'norm_cfg',
        'num_groups divides every layer width',
    ),
    (SEResNeXt, dict(depth=18), ValueError, 'depth', 'one of 26, 50, 101, 152'),
    (
        SEResNet,
        dict(depth=18, norm_cfg=dict(type='GN', num_groups=-1)),  # torch builds it
        ValueError,
        'norm_cfg',
        "a norm whose num_groups is a positive int, got {'type': 'GN', 'num_groups': -1}$",
    ),
    (SEResNet, dict(depth=50, zzz=1), TypeError, "unknown argument 'zzz'", '; allowed: '),
    (
        SEResNet,
        dict(depth=50, zzz=1, se_ratios=8),
        TypeError,
        'unknown arguments',
        r"arguments 'se_ratios' \(did you mean 'se_ratio'\?\), 'zzz'; "
        'allowed: act_before_se, avg_down, ',
    ),
    (SEResNeXt, dict(depth=50, groups=0), ValueError, 'groups', 'a positive int'),
    (SEResNeXt, dict(depth=50, base_width='4'), ValueError, 'base_width', 'a positive int'),
    # what each refusal says, word for word where a user reads a list or a range
    (ECALayer, dict(channels=16, b='1'), ValueError, 'b', 'must be a number, got'),
    (
        SEResNet,
        dict(depth=50, frozen_stages=-2),
        ValueError,
        'frozen_stages',
        r'an int in \[-1, 4\], got -2$',
    ),
    (SEResNet, dict(depth=18, with_cp=np.int64(2)), TypeError, 'with_cp', 'True or False'),
    (
        SEResNet,
        dict(depth=50, norm_cfg=None),
        TypeError,
        'norm_cfg',
        r'a dict with a registered norm type \(e\.g\. BN, SyncBN, GN, IN\), got None$',
    ),
    (
        SELayer,
        dict(channels=16, conv_cfg=dict(type='Conv3x3')),
        ValueError,
        'conv_cfg',
        r"registered conv type \(e\.g\. Conv2d\) or None, got \{'type': 'Conv3x3'\} "
        r"\('Conv3x3' is not registered; did you mean 'Conv3d'\?\)$",
    ),
    (
        SELayer,
        dict(channels=16, act_cfg=(dict(type='ReLU', foo=1), dict(type='Sigmoid'))),
        ValueError,
        r'act_cfg\[0\]',
        r'registered activation type \(e\.g\. ReLU, LeakyReLU, .*GELU\)'
        r" or None, got .* \(ReLU\.__init__\(\) got an unexpected keyword argument 'foo'\)$",
    ),
    (
        SEResNet,
        dict(depth=50, num_stages=2),
        ValueError,
        'strides must be 2 ints',
        r'got \(1, 2, 2, 2\)$',
    ),
]


@pytest.mark.parametrize(
    'cls,kwargs,error,name,allowed',
    BAD,
    ids=[f'{c.__name__}-{"-".join(k)}-{i}' for i, (c, k, *_) in enumerate(BAD)],
)
def test_bad_argument_is_named_with_what_is_allowed(cls, kwargs, error, name, allowed):
    with pytest.raises(error) as info:
        cls(**kwargs)
    message = str(info.value)
    assert '\n' not in message
    assert message.startswith(f'{cls.__name__}:') or message.startswith('SELayer:')
    # whole words: a misspelt name or text in the message ('XXstyleXX') does not pass
    assert re.search(rf'(?<!\w){name}(?!\w)', message), message
    assert re.search(rf'(?<!\w){allowed}', message), message
    if name in kwargs and 'unknown argument' not in message:  # the value given, quoted back
        assert f'got {kwargs[name]!r}' in message, message


# --- property-based: random combinations, valid ones build and run, invalid ones raise ------


def expected_shapes(kwargs, size):
    """Stage output shapes of a valid SEResNet/SEResNeXt config for a size x size input."""
    expansion = 1 if kwargs['depth'] in (18, 34) else 4
    side, shapes = -(-size // 4), []  # stem conv and pool, both stride 2 (padding keeps ceil)
    for i in range(kwargs['num_stages']):
        side = -(-side // kwargs['strides'][i])
        shapes.append((2, kwargs['base_channels'] * 2**i * expansion, side, side))
    return [shapes[i] for i in kwargs['out_indices']]


@st.composite
def configs(draw):
    """A valid config, and maybe one argument replaced by an invalid value (its name)."""
    num_stages = draw(st.integers(1, 4))
    kwargs = dict(
        depth=draw(st.sampled_from([18, 26, 50])),
        num_stages=num_stages,
        base_channels=draw(st.sampled_from([8, 16])),
        strides=tuple(draw(st.sampled_from([1, 2])) for _ in range(num_stages)),
        dilations=(1,) * num_stages,
        out_indices=tuple(sorted(draw(st.sets(st.integers(0, num_stages - 1), min_size=1)))),
        se_ratio=draw(st.sampled_from([1, 2, 4, 16])),
        stage_with_se=tuple(draw(st.booleans()) for _ in range(num_stages)),
        style=draw(st.sampled_from(['pytorch', 'caffe'])),
        deep_stem=draw(st.booleans()),
        avg_down=draw(st.booleans()),
        with_cp=draw(st.booleans()),
        frozen_stages=draw(st.integers(-1, num_stages)),
        se_cfg=draw(
            st.sampled_from(
                [
                    None,
                    dict(divisor=4),
                    dict(bias=False),
                    dict(act_cfg=(dict(type='ReLU'), dict(type='HSigmoid'))),
                    dict(squeeze='max', gate='tanh'),
                    dict(type='ECALayer'),
                    dict(type='ECALayer', squeeze='avgmax', gate='relu'),
                ]
            )
        ),
        se_position=draw(st.sampled_from(['standard', 'pre', 'post', 'identity', 'after_conv2'])),
    )
    if kwargs['se_cfg'] and kwargs['se_cfg'].get('type') == 'ECALayer':
        kwargs['se_ratio'] = None  # ECA has no reduction ratio
    if kwargs['depth'] == 18 and kwargs['se_position'] == 'after_conv2':
        kwargs['se_position'] = 'standard'  # needs bottlenecks
    kwargs['strides'] = (1,) + kwargs['strides'][1:]
    cls = SEResNet
    if kwargs['depth'] != 18 and draw(st.booleans()):
        cls, kwargs['groups'], kwargs['base_width'] = SEResNeXt, draw(st.sampled_from([2, 4])), 4
    invalid = draw(
        st.none()
        | st.sampled_from(
            [
                ('depth', 19),
                ('num_stages', 0),
                ('base_channels', 0),
                ('strides', (1,) * 5),
                ('out_indices', (num_stages,)),
                ('se_ratio', -1),
                ('stage_with_se', (True,) * 5),
                ('style', 'keras'),
                ('deep_stem', 'no'),
                ('with_cp', None),
                ('frozen_stages', num_stages + 1),
                ('se_cfg', dict(channels=4)),
                ('norm_cfg', dict()),
                ('se_position', 'inside'),
                ('se_cfg', dict(type='SKLayer')),
            ]
        )
    )
    if invalid is not None:
        kwargs[invalid[0]] = invalid[1]
    return cls, kwargs, invalid and invalid[0]


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(configs())
def test_random_configs_build_and_run_or_raise(config):
    cls, kwargs, invalid = config
    event('invalid' if invalid else 'valid')
    if invalid is not None:
        with pytest.raises((ValueError, TypeError), match=invalid):
            cls(**kwargs)
        return
    model = cls(**kwargs)
    model.train()
    x = torch.randn(2, 3, 32, 32, requires_grad=True)  # 2: BN trains on 1x1 last maps
    out = model(x)
    assert [tuple(f.shape) for f in out] == expected_shapes(kwargs, 32)
    sum(f.sum() for f in out).backward()
    assert x.grad is not None and x.grad.isfinite().all()


def test_flags_take_what_mmdet_takes():
    """mmdet and mmseg read flags by truth value: numpy bools and 0/1 are accepted as bools."""
    import numpy as np

    model = SEResNet(
        depth=18, stage_with_se=(np.True_, 1, 0, np.bool_(False)), with_cp=0, norm_eval=1
    )
    assert model.stage_with_se == (True, True, False, False)
    assert [layer[0].se_layer is not None for layer in (model.layer1, model.layer3)] == [
        True,
        False,
    ]


def test_a_valid_conv_cfg_builds_and_runs():
    """conv_cfg=dict(type='Conv2d'), the documented default spelled out, is accepted."""
    x = torch.randn(1, 3, 32, 32)
    model = SEResNet(depth=18, conv_cfg=dict(type='Conv2d'), out_indices=(3,)).eval()
    assert tuple(model(x)[0].shape) == (1, 512, 1, 1)
    layer = SELayer(channels=16, conv_cfg=dict(type='Conv2d'))
    assert layer(torch.randn(1, 16, 4, 4)).shape == (1, 16, 4, 4)


@pytest.mark.parametrize('num_stages', [1, 4])
def test_frozen_stages_may_name_every_stage(num_stages):
    """frozen_stages=num_stages is allowed (every stage and the stem frozen); one more is
    refused."""
    args = dict(
        depth=18,
        num_stages=num_stages,
        strides=(1, 2, 2, 2)[:num_stages],
        dilations=(1,) * num_stages,
        out_indices=(num_stages - 1,),
    )
    model = SEResNet(**args, frozen_stages=num_stages)
    model.train()
    assert not any(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match=rf'frozen_stages must be an int in \[-1, {num_stages}\]'):
        SEResNet(**args, frozen_stages=num_stages + 1)


# --- the toolkit's error type: code that catches mmdet's error still catches ours -----------

CONTEXT_BLOCK = dict(type='ContextBlock', ratio=1 / 4)
DCN = dict(type='DCN', deform_groups=1, fallback_on_stride=False)
# arguments mmdet's ResNet refuses (its type is the reference), which we refuse up front
MMDET_REFUSES = [
    dict(depth=20),
    dict(depth=50, num_stages=2),  # the 4-stage default strides and dilations
    dict(depth=18, norm_cfg=dict(type='GN', num_groups=0)),  # torch: integer modulo by zero
    dict(depth=50, strides=(1, 2, 2)),
    dict(depth=50, dilations=(1, 1, 1)),
    dict(depth=50, out_indices=(0, 4)),
    dict(depth=50, style='tf'),
    dict(depth=50, dcn=dict(type='DCN'), stage_with_dcn=(False,) * 5),
    dict(depth=50, plugins=[dict(cfg=CONTEXT_BLOCK, position='after_conv3', stages=(True,) * 3)]),
    dict(depth=50, plugins=[dict(cfg=CONTEXT_BLOCK, position='after_conv4')]),
    dict(depth=50, stage_with_dcn=True),  # mmdet: TypeError in its stage loop
    dict(depth=50, stage_with_dcn=(True,)),  # IndexError
    dict(depth=18, dcn=DCN, stage_with_dcn=(False, True, True, True)),  # basic blocks
    dict(depth=50, dcn=DCN, stage_with_dcn=(False, True, True, True), conv_cfg=dict(type='Conv2d')),
    # dcn malformed, read by a DCN stage: not a dict (AssertionError), without type (KeyError)
    dict(depth=50, dcn=True, stage_with_dcn=(False, True, True, True)),
    dict(depth=50, dcn=dict(deform_groups=1), stage_with_dcn=(False, False, False, True)),
    dict(depth=18, plugins=[dict(cfg=CONTEXT_BLOCK, position='after_conv1')]),
    # malformed plugins, in the order mmdet meets the faults
    dict(depth=50, plugins=5),  # TypeError: not iterable
    dict(depth=50, plugins='ContextBlock'),  # AttributeError: a str item has no copy()
    dict(depth=50, plugins=dict(cfg=CONTEXT_BLOCK, position='after_conv3')),  # the same
    dict(depth=18, plugins=[CONTEXT_BLOCK, None]),  # AttributeError before the basic block's
    dict(depth=50, plugins=[dict(cfg=CONTEXT_BLOCK)]),  # KeyError: position
    dict(depth=50, plugins=[dict(position='after_conv3')]),  # KeyError: cfg
    dict(depth=50, plugins=[dict(cfg='ContextBlock', position='after_conv3')]),  # no copy()
    dict(depth=50, plugins=[dict(cfg=dict(ratio=0.25), position='after_conv3')]),  # KeyError
]

# valid block options (mmdet's ResNet builds them): ours with SE off has mmdet's tensors, by
# name and shape, i.e. the DCN and plugin layers in the stages asked for and nowhere else
VALID_OPTIONS = [
    dict(depth=18, dcn=DCN, stage_with_dcn=(False,) * 4),
    dict(depth=50, dcn=True),  # no DCN stage: mmdet never reads dcn
    dict(depth=50, dcn=dict(deform_groups=1), stage_with_dcn=[0, 0, 0, 0]),
    dict(depth=50, dcn=DCN, stage_with_dcn=(False,) * 4, conv_cfg=dict(type='Conv2d')),
    dict(depth=50, dcn=DCN, stage_with_dcn=(False, True, True, True)),
    dict(depth=50, dcn=DCN, stage_with_dcn=[1, 0, 0, 1]),
    dict(depth=50, plugins=[dict(cfg=CONTEXT_BLOCK, position='after_conv3')]),
    dict(
        depth=50,
        plugins=[dict(cfg=CONTEXT_BLOCK, position='after_conv2', stages=(False, True, True, True))],
    ),
]


@pytest.mark.parametrize('kwargs', VALID_OPTIONS, ids=lambda k: '-'.join(k))
def test_valid_block_options_build_mmdets_layers(kwargs):
    from mmdet.models.backbones import ResNet

    theirs = ResNet(**kwargs).state_dict()
    ours = SEResNet(**kwargs, stage_with_se=False).state_dict()
    assert {k: tuple(v.shape) for k, v in ours.items()} == {
        k: tuple(v.shape) for k, v in theirs.items()
    }


@pytest.mark.parametrize('kwargs', MMDET_REFUSES, ids=lambda k: '-'.join(k)[6:] or 'depth')
def test_refusals_are_also_of_the_type_mmdet_raises(kwargs):
    from mmdet.models.backbones import ResNet

    with pytest.raises(Exception) as theirs:
        ResNet(**kwargs)
    with pytest.raises((ValueError, TypeError)) as ours:
        SEResNet(**kwargs)
    assert isinstance(ours.value, type(theirs.value)), (type(ours.value).__mro__, theirs.value)
    assert str(ours.value).startswith('SEResNet: ')  # ours, one line


def test_refusals_survive_pickling_with_both_types():
    """Errors cross process boundaries pickled (dataloader workers, DDP, pytest-xdist): the
    class made at run time for 'ours and the toolkit's' comes back with both types and the
    message."""
    import pickle

    with pytest.raises(ValueError) as info:
        SEResNet(depth=50, strides=(1, 2, 2))
    again = pickle.loads(pickle.dumps(info.value))
    assert isinstance(again, ValueError) and isinstance(again, AssertionError)
    assert str(again) == str(info.value)


def test_smallest_valid_values_build_and_run():
    """1 is a valid input width (grayscale), squeeze divisor and reduction ratio (C -> C/1, as
    in the SENet paper's ratio ablation), as one ratio or one per stage."""
    for se_ratio in (1, (1, 16, 16, 16)):
        model = SEResNet(
            depth=18, in_channels=1, se_ratio=se_ratio, se_cfg=dict(divisor=1), out_indices=(0,)
        ).eval()
        assert model(torch.randn(1, 1, 32, 32))[0].shape == (1, 64, 8, 8)
        # the squeeze width, 64 / 1, is what a checkpoint's tensors must match
        assert model.state_dict()['layer1.0.se_layer.conv1.conv.weight'].shape == (64, 64, 1, 1)
    layer = SELayer(channels=12, ratio=3, divisor=1)  # 12 / 3 = 4, not rounded up to 8
    assert layer.state_dict()['conv1.conv.weight'].shape == (4, 12, 1, 1)


# mmcv's builders are the reference: a layer config we refuse is also of the type mmcv raises
# for it, and of no other toolkit type (code catching mmcv's KeyError catches exactly those)
LAYER_CFGS = [
    ('norm_cfg', dict(num_groups=32)),  # no type: KeyError
    ('norm_cfg', 'BN'),  # not a dict: TypeError
    ('norm_cfg', dict(type='BatchNorm')),  # not registered: KeyError
    ('norm_cfg', dict(type='GN')),  # GN without num_groups: AssertionError
    ('conv_cfg', dict(type='Conv9d')),
    ('conv_cfg', dict(type='Conv2d', bias_typo=True)),  # TypeError from the conv
]


@pytest.mark.parametrize('name,cfg', LAYER_CFGS, ids=lambda v: str(v)[:24])
def test_layer_cfg_refusals_are_caught_as_mmcvs(name, cfg):
    from mmcv.cnn import build_conv_layer, build_norm_layer

    with pytest.raises(Exception) as theirs:
        if name == 'norm_cfg':
            build_norm_layer(cfg, 64)
        else:
            build_conv_layer(cfg, 8, 8, 1)
    with pytest.raises((ValueError, TypeError)) as ours:
        SEResNet(depth=18, **{name: cfg})
    assert isinstance(ours.value, type(theirs.value)), (type(ours.value).__mro__, theirs.value)
    for handler in (KeyError, AssertionError):
        assert isinstance(ours.value, handler) == isinstance(theirs.value, handler), handler
    assert str(ours.value).startswith(f'SEResNet: {name} must be ')


def test_a_bare_assertion_of_mmcv_is_said_in_words():
    """mmcv refuses GN without num_groups with a bare assert: we say what is missing; another
    bare assertion is named by its type."""
    from mmengine.registry import MODELS

    with pytest.raises(AssertionError) as error:
        SEResNet(depth=18, norm_cfg=dict(type='GN'))
    assert str(error.value) == (
        'SEResNet: norm_cfg must be a dict with a registered norm type (e.g. BN, SyncBN, GN, '
        "IN), got {'type': 'GN'} (GN needs num_groups, e.g. dict(type='GN', num_groups=32))"
    )

    class Bare(torch.nn.Module):
        def __init__(self, channels, **kwargs):
            raise AssertionError

    MODELS.register_module(name='SEBackbonesTestBareNorm', module=Bare)
    try:
        with pytest.raises(AssertionError) as error:
            SEResNet(depth=18, norm_cfg=dict(type='SEBackbonesTestBareNorm'))
    finally:
        MODELS._module_dict.pop('SEBackbonesTestBareNorm')
    assert str(error.value).endswith("got {'type': 'SEBackbonesTestBareNorm'} (AssertionError)")


def test_group_norm_counts():
    """One group is a valid GroupNorm (normalising C, H, W together); a negative count, which
    torch builds and fails on in forward, is refused as a plain ValueError (mmdet raises
    nothing at build time, so there is no toolkit type to keep), 0 also as torch's
    ZeroDivisionError."""
    model = SEResNet(depth=18, norm_cfg=dict(type='GN', num_groups=1), out_indices=(0,))
    assert model(torch.randn(1, 3, 32, 32))[0].shape == (1, 64, 8, 8)
    with pytest.raises(ValueError) as negative:
        SEResNet(depth=18, norm_cfg=dict(type='GN', num_groups=-1))
    assert not isinstance(negative.value, ZeroDivisionError)
    with pytest.raises(ZeroDivisionError, match='num_groups is a positive int, got'):
        SEResNet(depth=18, norm_cfg=dict(type='GN', num_groups=0))


@pytest.mark.parametrize(
    'init_cfg',
    [dict(type='Kaiming', layer='Conv2d'), [dict(type='Kaiming', layer='Conv2d')]],
)
def test_init_cfg_as_a_dict_or_a_list_of_dicts(init_cfg):
    """mmengine's two forms of init_cfg are accepted, and the initializer runs: every conv of
    the backbone (SE's too) re-drawn by Kaiming, with zero biases."""
    model = SEResNet(depth=18, init_cfg=init_cfg, out_indices=(0,))
    model.init_weights()
    se_fc = model.state_dict()['layer1.0.se_layer.conv1.conv.bias']
    assert torch.equal(se_fc, torch.zeros_like(se_fc))
