"""Differential property test: with SE off, ``SEResNet``/``SEResNeXt`` are mmdet's ``ResNet``/
``ResNeXt`` and mmseg's ``ResNetV1c``, over random well-typed configurations.

For each configuration ours must build exactly when theirs does. When both build they have the
same state-dict keys and shapes, the same outputs in eval mode once ours holds theirs' (random)
weights, and the same train-mode flags and ``requires_grad`` (``frozen_stages``,
``norm_eval``, ``norm_cfg.requires_grad``). When theirs refuses (any exception), ours refuses
with its one-line ``ValueError``/``TypeError('SEResNet: ...')``, which is also an instance of
the type theirs raised (``AssertionError``, ``KeyError``, ...), so code that catches theirs
catches ours.

Only well-typed values are drawn: values theirs accepts but we reject on purpose (``with_cp=1``,
``frozen_stages=5`` with 4 stages, a ``multi_grid`` longer than the last stage) are out of the
scope of the equivalence.
"""

import copy
from dataclasses import dataclass

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from mmdet.models.backbones import ResNet as MMDetResNet
from mmdet.models.backbones import ResNeXt as MMDetResNeXt
from mmseg.models.backbones import ResNet as MMSegResNet
from mmseg.models.backbones import ResNetV1c

from se_backbones import SEResNet, SEResNeXt
from tests.helpers import randomize_

pytestmark = pytest.mark.filterwarnings(  # a refused plugin's zero-width conv
    'ignore:Initializing zero-element tensors is a no-op:UserWarning'
)

BOTTLENECK_DEPTHS = (50,)
LAST_STAGE_BLOCKS = {18: (2, 2, 2, 2), 50: (3, 4, 6, 3)}
DCN = dict(type='DCN', deform_groups=1, fallback_on_stride=False)
PLUGIN_CFGS = (
    dict(type='ContextBlock', ratio=1.0 / 4),
    dict(
        type='GeneralizedAttention',
        spatial_range=-1,
        num_heads=8,
        attention_type='0010',
        kv_stride=2,
    ),
    dict(type='NonLocal2d', reduction=2),
)
PLUGIN_POSITIONS = ('after_conv1', 'after_conv2', 'after_conv3')
PROPERTY_SETTINGS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """Many tiny convs: one intra-op thread is much faster than two fighting over a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@dataclass
class Case:
    """One configuration, as theirs and ours take it."""

    theirs: type
    ours: type
    their_kwargs: dict
    our_kwargs: dict
    in_channels: int = 3
    size: int = 64
    compare_outputs: bool = True

    def __repr__(self):
        return (
            f'Case({self.theirs.__name__}(**{self.their_kwargs!r}) vs '
            f'{self.ours.__name__}(**{self.our_kwargs!r}))'
        )


def build(cls, kwargs):
    """The model, or the exception building it raised (kwargs are copied: mmdet's Bottleneck
    pops ``fallback_on_stride`` from the ``dcn`` dict it is given)."""
    try:
        return cls(**copy.deepcopy(kwargs)), None
    except Exception as error:  # noqa: BLE001 -- any refusal of theirs counts
        return None, error


def train_flags(model):
    model.train()
    return (
        {name: m.training for name, m in model.named_modules()},
        {name: p.requires_grad for name, p in model.named_parameters()},
    )


def assert_equivalent(case):
    """The differential property for one configuration; returns 'built' or 'refused', and
    theirs' refusal."""
    theirs, their_error = build(case.theirs, case.their_kwargs)
    ours, our_error = build(case.ours, case.our_kwargs)
    if their_error is not None:
        assert our_error is not None, (
            f'{case}: theirs refuses ({type(their_error).__name__}: {their_error}), ours builds'
        )
        message = str(our_error)
        assert isinstance(our_error, (ValueError, TypeError)), (
            f'{case}: ours refuses with {type(our_error).__name__}: {our_error}'
        )
        assert isinstance(our_error, type(their_error)), (
            f'{case}: theirs raises {type(their_error).__name__}, ours '
            f'{type(our_error).__name__}, which code catching theirs misses: {our_error}'
        )
        assert message.startswith(f'{case.ours.__name__}:'), f'{case}: {message}'
        assert '\n' not in message, f'{case}: {message!r}'
        return 'refused', f'{type(their_error).__name__}: {str(their_error)[:50]}'
    assert our_error is None, (
        f'{case}: theirs builds, ours refuses ({type(our_error).__name__}: {our_error})'
    )

    their_state, our_state = theirs.state_dict(), ours.state_dict()
    assert list(our_state) == list(their_state), case
    assert {k: v.shape for k, v in our_state.items()} == {
        k: v.shape for k, v in their_state.items()
    }, case

    assert train_flags(ours) == train_flags(theirs), case

    if not case.compare_outputs:
        return 'built', None
    randomize_(theirs)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    theirs.eval()
    ours.eval()
    size = 96 if case.our_kwargs.get('dcn') else case.size  # DCN convs need maps >= 3x3
    x = torch.randn(1, case.in_channels, size, size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        their_out, our_out = theirs(x), ours(x)
    assert len(our_out) == len(their_out) == len(case.our_kwargs['out_indices'])
    for theirs_f, ours_f in zip(their_out, our_out, strict=True):
        torch.testing.assert_close(ours_f, theirs_f, rtol=1e-5, atol=1e-6)
    return 'built', None


# --- strategies ----------------------------------------------------------------------------


def per_stage(draw, values, num_stages):
    return tuple(draw(st.sampled_from(values)) for _ in range(num_stages))


@st.composite
def norm_cfgs(draw):
    kind = draw(st.sampled_from(['BN', 'SyncBN', 'GN']))
    cfg = dict(type=kind, requires_grad=draw(st.booleans()))
    if kind == 'GN':  # 1, 2, 4, 8 divide every width of a small net; 3 and 32 do not (always)
        cfg['num_groups'] = draw(st.sampled_from([1, 2, 4, 8, 3, 32]))
    return cfg


@st.composite
def plugin_lists(draw, num_stages):
    """1 or 2 mmcv plugins; two of a type without distinct postfixes in one block is a
    duplicate module name, which theirs refuses."""
    plugins = []
    for _ in range(draw(st.integers(1, 2))):
        plugin = dict(
            cfg=dict(draw(st.sampled_from(PLUGIN_CFGS))),
            position=draw(st.sampled_from(PLUGIN_POSITIONS)),
        )
        if draw(st.booleans()):
            plugin['stages'] = per_stage(draw, [True, False], num_stages)
        if draw(st.booleans()):
            plugin['cfg']['postfix'] = draw(st.sampled_from(['1', '2']))
        plugins.append(plugin)
    return plugins


@st.composite
def resnet_args(draw, depths, mmseg=False):
    """The arguments shared by theirs and ours (SE and mmseg-only ones apart)."""
    num_stages = draw(st.integers(1, 4))
    depth = draw(st.sampled_from(depths))
    kwargs = dict(
        depth=depth,
        num_stages=num_stages,
        in_channels=draw(st.sampled_from([3, 1])),
        base_channels=draw(st.sampled_from([8, 16])),
        strides=per_stage(draw, [1, 2], num_stages),
        dilations=per_stage(draw, [1, 2, 4], num_stages),
        out_indices=tuple(sorted(draw(st.sets(st.integers(0, num_stages - 1), min_size=1)))),
        style=draw(st.sampled_from(['pytorch', 'caffe'])),
        frozen_stages=draw(st.integers(-1, num_stages)),
        norm_cfg=draw(norm_cfgs()),
        conv_cfg=draw(st.sampled_from([None, dict(type='Conv2d')])),
        norm_eval=draw(st.booleans()),
        with_cp=draw(st.booleans()),
        zero_init_residual=draw(st.booleans()),
    )
    stem = draw(st.sampled_from([None, 8, 16, 32]))
    if mmseg:  # mmseg's stem default is 64, ours and mmdet's base_channels: always pass it
        kwargs['stem_channels'] = stem or kwargs['base_channels']
    else:
        kwargs.update(deep_stem=draw(st.booleans()), avg_down=draw(st.booleans()))
        if stem is not None:
            kwargs['stem_channels'] = stem
    if draw(st.integers(0, 2)) == 0:  # a third of the nets; in a basic block theirs refuses
        kwargs['dcn'] = dict(DCN, fallback_on_stride=draw(st.booleans()))
        kwargs['stage_with_dcn'] = per_stage(draw, [True, False, 1, 0], num_stages)
    if depth in BOTTLENECK_DEPTHS and draw(st.integers(0, 2)) > 0:
        kwargs['plugins'] = draw(plugin_lists(num_stages))
    return kwargs


def no_se(kwargs):
    return dict(kwargs, stage_with_se=(False,) * kwargs.get('num_stages', 4))


@st.composite
def mmdet_resnet_cases(draw):
    kwargs = draw(resnet_args((18, 50)))
    return Case(MMDetResNet, SEResNet, kwargs, no_se(kwargs), kwargs['in_channels'])


@st.composite
def mmdet_resnext_cases(draw):
    kwargs = draw(resnet_args((50,)))
    kwargs.update(groups=draw(st.integers(2, 4)), base_width=draw(st.sampled_from([4, 2])))
    return Case(MMDetResNeXt, SEResNeXt, kwargs, no_se(kwargs), kwargs['in_channels'])


@st.composite
def mmseg_v1c_cases(draw):
    """mmseg's ResNetV1c (deep stem, no avg_down) with its own contract_dilation and
    multi_grid; ours is SEResNet(deep_stem=True, avg_down=False)."""
    kwargs = draw(resnet_args((18, 50), mmseg=True))
    kwargs['contract_dilation'] = draw(st.booleans())
    if draw(st.booleans()):
        blocks = LAST_STAGE_BLOCKS[kwargs['depth']][kwargs['num_stages'] - 1]
        kwargs['multi_grid'] = per_stage(draw, [1, 2, 4], blocks)
    ours = no_se(dict(kwargs, deep_stem=True, avg_down=False))
    return Case(
        ResNetV1c,
        SEResNet,
        kwargs,
        ours,
        kwargs['in_channels'],
        compare_outputs=not chains_plugins(kwargs),
    )


def chains_plugins(kwargs):
    """Whether a block has two plugins at one position: mmseg's ``forward_plugin`` feeds each
    of them the block's tensor and keeps the last output (mmdet fixed that, issue #7795; ours
    chains them, as mmdet's), so their outputs differ from ours there."""
    plugins = kwargs.get('plugins') or []
    return any(
        len(
            [
                p
                for p in plugins
                if p['position'] == position and (p.get('stages') is None or p['stages'][stage])
            ]
        )
        > 1
        for stage in range(kwargs['num_stages'])
        for position in PLUGIN_POSITIONS
    )


def record(case, result):
    outcome, their_error = result
    event(outcome)
    if their_error is not None:
        event(f'theirs: {their_error}')
    if not case.compare_outputs:
        event('mmseg chains plugins: outputs not compared')
    event(f'norm: {case.our_kwargs["norm_cfg"]["type"]}')
    for name in ('dcn', 'plugins', 'multi_grid'):
        if case.our_kwargs.get(name) is not None:
            event(f'{name}, {outcome}')


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=300, **PROPERTY_SETTINGS)
@given(mmdet_resnet_cases())
def test_seresnet_without_se_is_mmdet_resnet(case):
    record(case, assert_equivalent(case))


@settings(max_examples=150, **PROPERTY_SETTINGS)
@given(mmdet_resnext_cases())
def test_seresnext_without_se_is_mmdet_resnext(case):
    record(case, assert_equivalent(case))


@settings(max_examples=200, **PROPERTY_SETTINGS)
@given(mmseg_v1c_cases())
def test_seresnet_without_se_is_mmseg_resnetv1c(case):
    record(case, assert_equivalent(case))


# --- explicit cases ------------------------------------------------------------------------

GN32 = dict(type='GN', num_groups=32, requires_grad=True)


def test_gn32_resnet50_builds_as_in_mmseg_tests():
    """mmseg's own backbone tests build ResNet(50) with GN(32) at full width."""
    model = SEResNet(50, norm_cfg=GN32)
    assert isinstance(model.layer1[0].norm1, torch.nn.GroupNorm)
    kwargs = dict(depth=50, norm_cfg=GN32, norm_eval=False, out_indices=(0, 3))
    for theirs in (MMSegResNet, MMDetResNet):
        assert assert_equivalent(Case(theirs, SEResNet, kwargs, no_se(kwargs)))[0] == 'built'


def v1c(depth=50, **kwargs):
    kwargs = dict(
        dict(depth=depth, base_channels=16, stem_channels=16, out_indices=(0, 3), norm_eval=False),
        **kwargs,
    )
    return Case(ResNetV1c, SEResNet, kwargs, no_se(dict(kwargs, deep_stem=True, avg_down=False)))


def mmdet(depth=50, theirs=MMDetResNet, ours=SEResNet, **kwargs):
    kwargs = dict(dict(depth=depth, base_channels=8, out_indices=(0, 3), norm_eval=True), **kwargs)
    return Case(theirs, ours, kwargs, no_se(kwargs))


CONTEXT = dict(type='ContextBlock', ratio=1.0 / 4)
EXPLICIT = {
    # mmseg's dilated ResNetV1c (PSPNet, DeepLabV3), with contract_dilation and multi_grid
    'v1c-d8-contract': (
        v1c(strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), contract_dilation=True),
        'built',
    ),
    'v1c-d8-multi-grid': (
        v1c(strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), multi_grid=(1, 2, 4)),
        'built',
    ),
    'v1c-d16-both': (
        v1c(
            strides=(1, 2, 2, 1),
            dilations=(1, 1, 1, 2),
            contract_dilation=True,
            multi_grid=(1, 2, 4),
        ),
        'built',
    ),
    'v1c-18-3-stages': (
        v1c(
            18,
            num_stages=3,
            strides=(1, 2, 1),
            dilations=(1, 1, 2),
            out_indices=(2,),
            contract_dilation=True,
            multi_grid=(2, 4),
        ),
        'built',
    ),
    'v1c-gn': (v1c(norm_cfg=dict(type='GN', num_groups=8, requires_grad=True)), 'built'),
    'v1c-syncbn': (v1c(norm_cfg=dict(type='SyncBN', requires_grad=True)), 'built'),
    # GN whose num_groups does not divide a width: both refuse
    'gn-3': (mmdet(norm_cfg=dict(type='GN', num_groups=3)), 'refused'),
    'gn-32-narrow': (mmdet(norm_cfg=dict(type='GN', num_groups=32)), 'refused'),
    'gn-8-deep-stem-4': (mmdet(deep_stem=True, norm_cfg=dict(type='GN', num_groups=8)), 'refused'),
    # mmdet's DCN config
    'dcn': (mmdet(dcn=DCN, stage_with_dcn=(False, True, True, True)), 'built'),
    'dcn-resnext': (
        mmdet(
            theirs=MMDetResNeXt,
            ours=SEResNeXt,
            groups=4,
            base_width=4,
            dcn=DCN,
            stage_with_dcn=(False, True, True, True),
        ),
        'built',
    ),
    # DCN in a basic block, DCN with a conv_cfg: both refuse
    'dcn-basic': (mmdet(18, dcn=DCN, stage_with_dcn=(False, True, False, False)), 'refused'),
    'dcn-int-flags': (mmdet(dcn=DCN, stage_with_dcn=(0, 1, 1, 1), with_cp=1), 'built'),
    'dcn-unused-basic': (mmdet(18, dcn=DCN, stage_with_dcn=(False,) * 4), 'built'),
    'dcn-conv-cfg': (
        mmdet(dcn=DCN, stage_with_dcn=(True,) * 4, conv_cfg=dict(type='Conv2d')),
        'refused',
    ),
    # mmdet's plugin configs (GCNet, empirical attention, non-local)
    'gcnet': (
        mmdet(
            plugins=[dict(cfg=CONTEXT, stages=(False, True, True, True), position='after_conv3')]
        ),
        'built',
    ),
    'attention-nonlocal': (
        mmdet(
            plugins=[
                dict(cfg=PLUGIN_CFGS[1], position='after_conv2', stages=(False, False, True, True)),
                dict(cfg=PLUGIN_CFGS[2], position='after_conv3'),
            ]
        ),
        'built',
    ),
    'plugins-resnext': (
        mmdet(
            theirs=MMDetResNeXt,
            ours=SEResNeXt,
            groups=2,
            base_width=4,
            plugins=[dict(cfg=CONTEXT, position='after_conv2')],
        ),
        'built',
    ),
    'plugins-postfixes': (
        mmdet(
            plugins=[
                dict(cfg=dict(CONTEXT, postfix='1'), position='after_conv2'),
                dict(cfg=dict(CONTEXT, postfix='2'), position='after_conv3'),
            ]
        ),
        'built',
    ),
    # two plugins of one type and postfix in one block: a duplicate name, both refuse
    'plugins-duplicate': (
        mmdet(
            plugins=[
                dict(cfg=CONTEXT, position='after_conv2'),
                dict(cfg=CONTEXT, position='after_conv3'),
            ]
        ),
        'refused',
    ),
    'plugins-duplicate-disjoint-stages': (
        mmdet(
            plugins=[
                dict(cfg=CONTEXT, position='after_conv2', stages=(True, True, False, False)),
                dict(cfg=CONTEXT, position='after_conv3', stages=(False, False, True, True)),
            ]
        ),
        'built',
    ),
    'plugins-basic': (mmdet(18, plugins=[dict(cfg=CONTEXT, position='after_conv2')]), 'refused'),
    'plugins-chained': (
        mmdet(
            plugins=[
                dict(cfg=PLUGIN_CFGS[2], position='after_conv3'),
                dict(cfg=CONTEXT, position='after_conv3'),
            ]
        ),
        'built',
    ),
    # a plugin that does not fit a block's width (8 heads of 4 // 8 = 0 channels): both refuse
    'plugins-too-narrow': (
        mmdet(
            theirs=MMDetResNeXt,
            ours=SEResNeXt,
            groups=2,
            base_width=2,
            plugins=[dict(cfg=PLUGIN_CFGS[1], position='after_conv2')],
        ),
        'refused',
    ),
    'plugins-unknown-type': (
        mmdet(plugins=[dict(cfg=dict(type='ContextBlok'), position='after_conv2')]),
        'refused',
    ),
    # everything at once
    'frozen-caffe-avg-down': (
        mmdet(
            style='caffe',
            avg_down=True,
            deep_stem=True,
            frozen_stages=2,
            with_cp=True,
            stem_channels=32,
            strides=(2, 1, 2, 1),
            dilations=(1, 2, 1, 4),
        ),
        'built',
    ),
}


@pytest.mark.parametrize('case,outcome', EXPLICIT.values(), ids=list(EXPLICIT))
def test_explicit_case(case, outcome):
    assert assert_equivalent(case)[0] == outcome


def test_mmseg_plugin_chain_bug_is_not_copied():
    """Two plugins after one conv: ours has mmseg's keys but chains them as mmdet does."""
    plugins = [
        dict(cfg=PLUGIN_CFGS[2], position='after_conv3'),
        dict(cfg=CONTEXT, position='after_conv3', stages=(False, True, True, True)),
    ]
    mmseg = v1c(plugins=plugins)
    assert chains_plugins(dict(mmseg.their_kwargs, num_stages=4))
    mmseg.compare_outputs = False
    assert assert_equivalent(mmseg)[0] == 'built'
    kwargs = dict(mmseg.their_kwargs, deep_stem=True)
    assert assert_equivalent(Case(MMDetResNet, SEResNet, kwargs, no_se(kwargs)))[0] == 'built'
