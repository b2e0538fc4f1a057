"""SE twins of upstream mmdet / mmseg / mmpretrain configs (se_backbones.twin and
tools/make_se_config.py): each twin is written, loads, builds through its toolkit's registry and
runs a forward; three train a step on the toy sets; timm weights load identically through two
twins; bases that cannot be mapped are refused with one line and nothing written."""

import importlib
import os
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from se_backbones import SEResNet, SEResNeXt, convert_timm_state_dict
from se_backbones.twin import (
    ARCHS,
    TwinError,
    arch_of_timm,
    arch_table,
    fmt,
    make_se_config,
    timm_weights,
)
from se_backbones.weights.timm_archs import TIMM_ARCHS
from tests.configs.toy import ROOT
from tests.twin.sweep import build_model
from tests.twin.toy_steps import check_loaded, save_timm, train_step

IMAGENET = ([123.675, 116.28, 103.53], [58.395, 57.12, 57.375])

# base config, options, expected (backbone class, depth, style, widths at out_indices)
CASES = {
    'faster': (
        'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
        dict(timm='seresnet50.a1_in1k'),
        (SEResNet, 50, 'pytorch'),
    ),
    'cascade': (
        'mmdet::cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py',
        dict(timm='seresnext50_32x4d.racm_in1k'),
        (SEResNeXt, 50, 'pytorch'),
    ),
    'mask': (
        'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
        dict(timm='legacy_seresnet50.in1k'),
        (SEResNet, 50, 'caffe'),
    ),
    'retina_r18': (
        'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py',
        dict(timm='legacy_seresnet18.in1k'),
        (SEResNet, 18, 'pytorch'),
    ),
    'retina_r50': (
        'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
        dict(arch='se_r18'),
        (SEResNet, 18, 'pytorch'),
    ),
    'fcos_caffe': (
        'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
        dict(timm='seresnet50.a1_in1k'),
        (SEResNet, 50, 'pytorch'),
    ),
    'deformable_detr': (
        'mmdet::deformable_detr/deformable-detr_r50_16xb2-50e_coco.py',
        dict(timm='ecaresnet50d.miil_in1k'),
        (SEResNet, 50, 'pytorch'),
    ),
    'pspnet': (
        'mmseg::pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        dict(timm='seresnet50.ra2_in1k'),
        (SEResNet, 50, 'pytorch'),
    ),
    'deeplabv3plus': (
        'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        dict(timm='legacy_seresnet18.in1k'),
        (SEResNet, 18, 'pytorch'),
    ),
    'fcn': (
        'mmseg::fcn/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py',
        dict(timm='seresnet50.a1_in1k'),
        (SEResNet, 50, 'pytorch'),
    ),
    'upernet': (
        'mmseg::upernet/upernet_r50_4xb2-40k_cityscapes-512x1024.py',
        dict(arch='se_r18'),
        (SEResNet, 18, 'pytorch'),
    ),
    'resnet50_cls': (
        'mmpretrain::resnet/resnet50_8xb32_in1k.py',
        dict(timm='seresnet50.a1_in1k'),
        (SEResNet, 50, 'pytorch'),
    ),
    'resnet18_cls': (
        'mmpretrain::resnet/resnet18_8xb32_in1k.py',
        dict(timm='seresnet152d.ra2_in1k'),
        (SEResNet, 152, 'pytorch'),
    ),
}


def toolkit(name):
    return name.split('::')[0]


def backbone_widths(model, size=64):
    with torch.no_grad():
        return [f.shape[1] for f in model.backbone(torch.randn(1, 3, size, size))]


def det_forward(model):
    """mmdet's predict path on one 64x64 image, through the model's data preprocessor."""
    from mmdet.structures import DetDataSample

    image = torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8)
    sample = DetDataSample(
        metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64), scale_factor=(1.0, 1.0), img_id=0)
    )
    data = model.data_preprocessor(dict(inputs=[image], data_samples=[sample]), False)
    with torch.no_grad():
        return model(**data, mode='predict')


@pytest.fixture(scope='module')
def twins(tmp_path_factory):
    """Every case's twin written once: name -> (path, Twin)."""
    folder = tmp_path_factory.mktemp('twins')
    return {
        name: (
            str(folder / f'{name}.py'),
            make_se_config(base, str(folder / f'{name}.py'), **options),
        )
        for name, (base, options, _) in CASES.items()
    }


def test_at_least_twelve_upstream_configs_across_the_three_toolkits():
    scopes = [toolkit(base) for base, _, _ in CASES.values()]
    assert len(CASES) >= 12 and set(scopes) == {'mmdet', 'mmseg', 'mmpretrain'}


@pytest.mark.parametrize('name', CASES)
def test_twin_loads_builds_and_runs(name, twins):
    base, options, (cls, depth, style) = CASES[name]
    scope = toolkit(base)
    path, twin = twins[name]
    cfg = Config.fromfile(path)
    base_cfg = Config.fromfile(
        os.path.join(
            importlib.import_module(scope).__path__[0], '.mim', 'configs', base.split('::')[1]
        )
    )
    text = open(path).read()
    assert f'_base_ = {base!r}' in text and "custom_imports = dict(imports=['se_backbones']" in text
    # the backbone: our class and architecture, the base's training settings
    new, old = cfg.model.backbone, base_cfg.model.backbone
    assert new.type.startswith('se_backbones.') and '_delete_' not in new
    for key in (
        'out_indices',
        'frozen_stages',
        'norm_eval',
        'norm_cfg',
        'strides',
        'dilations',
        'contract_dilation',
        'num_stages',
        'dcn',
        'stage_with_dcn',
        'with_cp',
    ):
        if key in old:
            assert new[key] == old[key], key
    assert cfg.model.get('pretrained') is None
    if 'timm' in options:
        assert new.init_cfg == dict(
            type='se_backbones.TimmPretrained', model_name=options['timm'], missing_ok=True
        )
        preprocessor = cfg.model.get('data_preprocessor') or cfg.data_preprocessor
        assert (list(preprocessor.mean), list(preprocessor.std)) == IMAGENET
        assert preprocessor.get('bgr_to_rgb', preprocessor.get('to_rgb')) is True
    else:
        assert new.init_cfg is None and any('UNTRAINED' in note for note in twin.notes)
    model = build_model(cfg, scope).eval()
    assert type(model.backbone) is cls
    assert (model.backbone.depth, model.backbone.style) == (depth, style)
    got = backbone_widths(model)
    if scope == 'mmdet':
        neck = cfg.model.neck
        assert list(neck.in_channels) == got  # the neck takes what the backbone gives
        results = det_forward(model)
        assert len(results) == 1 and results[0].pred_instances.bboxes.shape[-1] == 4
    elif scope == 'mmseg':
        for head in (model.decode_head, model.auxiliary_head):
            index = head.in_index
            expected = [got[i] for i in index] if isinstance(index, (list, tuple)) else got[index]
            assert head.in_channels == expected
        if hasattr(model.decode_head, 'c1_bottleneck'):
            assert model.decode_head.c1_bottleneck.conv.in_channels == got[0]
        with torch.no_grad():
            feats = model.extract_feat(torch.randn(1, 3, 64, 64))
            assert model.decode_head(feats).shape[:2] == (1, 19)
            assert model.auxiliary_head(feats).shape[:2] == (1, 19)
    else:
        assert cfg.model.head.in_channels == got[-1]
        with torch.no_grad():
            assert model(torch.randn(1, 3, 64, 64), mode='tensor').shape == (1, 1000)


def test_changes_are_printed_with_their_reasons(twins):
    """The FCOS (Caffe-style R50) twin: style, normalisation and colour order follow timm's
    weights; the R50 -> SE-R18 twins fix the widths downstream."""
    lines = twins['fcos_caffe'][1].report()
    text = '\n'.join(lines)
    assert "model.backbone.style: 'caffe' -> 'pytorch' (seresnet50's architecture" in text
    assert (
        'model.data_preprocessor.mean: [102.9801, 115.9465, 122.7717] -> '
        '[123.675, 116.28, 103.53] (timm seresnet50.a1_in1k pretrained_cfg'
    ) in text
    assert 'model.data_preprocessor.bgr_to_rgb: False -> True' in text
    assert (
        'kept from the base backbone: num_stages=4, out_indices=(0, 1, 2, 3), '
        'frozen_stages=1, norm_cfg=BN(requires_grad=False), norm_eval=True' in text
    )
    changes = [
        line
        for line in lines[1:]
        if line.startswith('  ') and not line.startswith(('  kept', '  note'))
    ]
    assert changes and all(' (' in c for c in changes)  # each change names its reason
    # timm weights with missing_ok under frozen stages: the offline case is said
    assert 'missing_ok trains on from random init with those parts frozen' in text
    retina = '\n'.join(twins['retina_r50'][1].report())
    assert 'model.neck.in_channels: [256, 512, 1024, 2048] -> [64, 128, 256, 512]' in retina
    assert 'UNTRAINED' in retina and 'frozen_stages=1' in retina  # the note on frozen parts
    changes = {c.key: (c.old, c.new) for c in twins['deeplabv3plus'][1].changes}
    assert changes['model.decode_head.in_channels'] == (2048, 512)
    assert changes['model.decode_head.channels'] == (512, 128)  # as mmseg's R18 configs
    assert changes['model.decode_head.c1_in_channels'] == (256, 64)
    assert changes['model.decode_head.c1_channels'] == (48, 12)
    assert changes['model.auxiliary_head.in_channels'] == (1024, 256)
    assert changes['model.pretrained'] == ('open-mmlab://resnet50_v1c', None)
    assert changes['model.backbone.deep_stem'] == (True, False)  # ResNetV1c -> timm's stem
    upernet = {c.key: c.new for c in twins['upernet'][1].changes}
    assert upernet['model.decode_head.in_channels'] == [64, 128, 256, 512]
    assert 'model.decode_head.channels' not in upernet  # multi-level heads keep theirs
    assert {c.key: c.new for c in twins['resnet18_cls'][1].changes}[
        'model.head.in_channels'
    ] == 2048


@pytest.fixture(scope='module')
def timm_file(tmp_path_factory):
    """A randomized timm seresnet50 state dict (random BN statistics too): no network here."""
    return save_timm('seresnet50', tmp_path_factory.mktemp('timm'))


def test_the_same_timm_weights_load_identically_through_two_twins(timm_file, tmp_path):
    """A Faster R-CNN twin (mmdet, --arch) and a PSPNet twin (mmseg, whose base sets a
    model-level pretrained) load one timm file into equal backbones, equal to the converted
    file."""
    expected = convert_timm_state_dict('seresnet50', torch.load(timm_file))
    backbones = []
    for base, scope, options in (
        (CASES['faster'][0], 'mmdet', dict(arch='se_r50')),
        (CASES['pspnet'][0], 'mmseg', dict(timm='seresnet50.ra2_in1k')),
    ):
        out = str(tmp_path / f'{scope}.py')
        twin = make_se_config(base, out, checkpoint=timm_file, **options)
        cfg = Config.fromfile(out)
        assert cfg.model.backbone.init_cfg == dict(
            type='se_backbones.TimmPretrained',
            model_name=twin.model_name,
            checkpoint=os.path.abspath(timm_file),
        )
        model = build_model(cfg, scope)
        model.init_weights()
        backbones.append(model.backbone.state_dict())
    first, second = backbones
    assert first.keys() == second.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(first[key], value) and torch.equal(second[key], value), key


# --- one train step on the toy sets ----------------------------------------------------------


@pytest.mark.parametrize(
    'case, options',
    [
        ('fcos_caffe', dict(arch='se_r50')),  # a Caffe-style R50 with the file's weights
        ('pspnet', dict(arch='se_r50')),
        ('resnet50_cls', dict(timm='seresnet50.a1_in1k')),
    ],
)
def test_twin_trains_a_step_on_the_toy_set(case, options, timm_file, toy_root, tmp_path):
    base = CASES[case][0]
    out = str(tmp_path / 'twin.py')
    make_se_config(base, out, checkpoint=timm_file, **options)
    runner, probe = train_step(out, toolkit(base), tmp_path, toy_root)
    assert {
        'backbone',
        {'mmdet': 'bbox_head', 'mmseg': 'decode_head', 'mmpretrain': 'head'}[toolkit(base)],
    } <= set(probe.check(runner))
    check_loaded(probe, 'seresnet50', timm_file)


# --- options and refusals --------------------------------------------------------------------


def test_arch_names_cover_every_timm_architecture_and_the_table_lists_weights():
    assert sorted(ARCHS.values()) == sorted(TIMM_ARCHS)
    assert {
        'se_r18',
        'se_r50',
        'se_r101',
        'se_x50_32x4d',
        'se_x101_64x4d',
        'eca_r50d',
        'legacy_se_r101',
        'senet154',
    } <= set(ARCHS)
    assert arch_of_timm('seresnext26t_32x4d.bt_in1k') == 'se_x26t_32x4d'
    weights = timm_weights()
    assert weights['seresnet18'] == weights['seresnet101'] == []  # untrained in timm
    assert 'seresnet50.a1_in1k' in weights['seresnet50']
    assert weights['legacy_seresnet18'] == ['legacy_seresnet18.in1k']
    table = arch_table()
    assert len(table) == 2 + len(ARCHS)
    assert '| se_r18 | seresnet18 | SEResNet(depth=18) | none (untrained) |' in table


@pytest.mark.parametrize(
    'options, message',
    [
        (dict(), 'give timm=NAME'),
        (
            dict(arch='se_r50', timm='legacy_seresnet50.in1k'),
            'arch=se_r50 and timm=legacy_seresnet50.in1k disagree: legacy_seresnet50.in1k has the '
            'architecture legacy_se_r50',
        ),
        (
            dict(arch='seresnet50'),
            "unknown architecture 'seresnet50' (that is timm's name: use arch=se_r50",
        ),
        (dict(arch='se_r5O'), "unknown architecture 'se_r5O' (did you mean se_r50"),
        (dict(timm='seresnet18'), 'timm=seresnet18: timm has no ImageNet weights for seresnet18'),
        (dict(timm='seresnet50.in22k'), 'timm=seresnet50.in22k: timm has no such pretrained tag'),
        (dict(timm='resnet50'), 'timm=resnet50: not an SE architecture'),
    ],
)
def test_options_that_do_not_choose_a_backbone_are_refused(options, message, tmp_path):
    out = tmp_path / 'twin.py'
    with pytest.raises(TwinError) as error:
        make_se_config(CASES['faster'][0], str(out), **options)
    assert message in str(error.value)
    assert not out.exists()


@pytest.mark.parametrize(
    'base, options, message',
    [
        (
            'mmdet::regnet/faster-rcnn_regnetx-3.2GF_fpn_1x_coco.py',
            dict(timm='seresnet50'),
            "model.backbone.type is 'RegNet', not one of ResNet, ResNetV1c, ResNetV1d, ResNeXt",
        ),
        (
            'mmdet::faster_rcnn/faster-rcnn_r50-caffe_c4-1x_coco.py',
            dict(arch='se_r50'),
            "model.roi_head.shared_head is 'ResLayer', a plain ResNet stage",
        ),
        (
            'mmdet::dcn/faster-rcnn_r50-dconv-c3-c5_fpn_1x_coco.py',
            dict(arch='se_r18'),
            'model.backbone (se_r18): stage_with_dcn must be all False with basic blocks',
        ),
        (
            'mmdet::gn/mask-rcnn_r50_fpn_gn-all_2x_coco.py',
            dict(timm='seresnet50.a1_in1k'),
            "norm_cfg type 'GN'; timm's weights are BatchNorm",
        ),
        (
            'mmseg::fastfcn/fastfcn_r50-d32_jpu_psp_4xb4-80k_ade20k-512x512.py',
            dict(arch='se_r18'),
            "model.neck type 'JPU'",
        ),
        (
            'mmpretrain::resnet/resnet50_8xb256-rsb-a1-600e_in1k.py',
            dict(arch='se_r50'),
            'drop_path_rate=0.05 has no counterpart in se_backbones.SEResNet',
        ),
        ('mmdet::faster_rcnn/no-such-config.py', dict(arch='se_r50'), 'mmdet has no config'),
    ],
)
def test_bases_that_cannot_be_mapped_are_refused_naming_why(base, options, message, tmp_path):
    out = tmp_path / 'twin.py'
    with pytest.raises(TwinError) as error:
        make_se_config(base, str(out), **options)
    assert message in str(error.value)
    assert os.listdir(tmp_path) == []


def test_the_command_refuses_with_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / 'twin.py'
    result = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, 'tools', 'make_se_config.py'),
            'mmdet::regnet/faster-rcnn_regnetx-3.2GF_fpn_1x_coco.py',
            str(out),
            '--timm',
            'seresnet50.a1_in1k',
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    lines = [
        line
        for line in result.stderr.splitlines()
        if 'pkg_resources' not in line
        and 'import pkg_resources' not in line
        and '_bootstrap' not in line
    ]
    assert lines == [
        "make_se_config.py: error: model.backbone.type is 'RegNet', not one of "
        'ResNet, ResNetV1c, ResNetV1d, ResNeXt: only a ResNet-family backbone '
        'maps to an SE-ResNet (its stages, widths and training settings)'
    ]
    assert os.listdir(tmp_path) == []


def test_the_command_needs_a_backbone_choice_before_any_heavy_import(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, 'tools', 'make_se_config.py'),
            'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
            str(tmp_path / 'twin.py'),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith('make_se_config.py: error: give --timm NAME')
    assert os.listdir(tmp_path) == []


def test_the_command_writes_the_twin_and_prints_the_changes(tmp_path, capsys):
    from tools.make_se_config import main

    out = tmp_path / 'sub' / 'retina_se_r18.py'
    twin = main([CASES['retina_r18'][0], str(out), '--arch', 'legacy_se_r18'])
    printed = capsys.readouterr().out
    assert 'UNTRAINED' in printed and 'legacy_seresnet18.in1k (--timm NAME)' in printed
    assert printed.strip().endswith(f'wrote {out}')
    assert Config.fromfile(str(out)).model.backbone.init_cfg is None
    assert twin.model_name is None
    with pytest.raises(SystemExit):  # exists: refused without --force
        main([CASES['retina_r18'][0], str(out), '--arch', 'se_r18'])
    assert 'exists (--force replaces it)' in capsys.readouterr().err
    main([CASES['retina_r18'][0], str(out), '--arch', 'se_r18', '--force'])
    assert 'act_before_se' not in Config.fromfile(str(out)).model.backbone  # se_r18 now


def test_a_relative_local_base_is_inherited_relative_to_the_twin(tmp_path, monkeypatch):
    base = tmp_path / 'mine.py'
    base.write_text(
        "_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'\n"
        "custom_imports = dict(imports='os.path', allow_failed_imports=False)\n"
    )
    out = tmp_path / 'twins' / 'mine_se.py'
    monkeypatch.chdir(tmp_path)
    make_se_config('mine.py', str(out), timm='seresnet50.a1_in1k')
    text = out.read_text()
    assert "_base_ = '../mine.py'" in text
    assert "imports=['os.path', 'se_backbones']" in text  # the base's imports kept
    assert Config.fromfile(str(out)).model.backbone.type == 'se_backbones.SEResNet'


def test_fmt_writes_loadable_python():
    value = dict(
        a=(1,), b=[dict(c='x', d=None)], e={'not-an-identifier': 1.5}, f=dict(g=list(range(40)))
    )
    assert eval(fmt(value, 0), {'dict': dict}) == value
