"""make_se_config end to end on small local bases (no toolkit config chain to load): the twin's
text as written, what MMEngine makes of it, the refusals of ``out`` and of bases without a
backbone, and nothing written when it refuses."""

import os
import stat

import pytest
from mmengine.config import Config

from se_backbones.twin import TwinError, make_se_config
from tests.helpers import MMDET_DETECTION_SETTINGS
from tests.twin.toy_steps import save_timm

LOCAL = """
default_scope = 'mmdet'
model = dict(
    type='RetinaNet',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(type='FPN', in_channels=[256, 512, 1024, 2048], out_channels=256, num_outs=5))
load_from = 'plain.pth'
"""


@pytest.fixture
def base(tmp_path):
    path = tmp_path / 'base.py'
    path.write_text(LOCAL)
    return str(path)


def test_the_twin_is_written_as_its_changes_say_and_loads_as_the_base_with_them(base, tmp_path):
    out = tmp_path / 'new' / 'deeper' / 'twin.py'
    twin = make_se_config(base, str(out), timm='legacy_seresnet18.in1k')
    assert twin.path == str(out) and out.read_text() == twin.text
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o666 & ~umask  # a config, not a secret
    assert [p.name for p in out.parent.iterdir()] == ['twin.py']  # no temporary file left
    cfg = Config.fromfile(str(out))
    assert cfg.load_from is None
    assert cfg.model.neck == dict(
        type='FPN', in_channels=[64, 128, 256, 512], out_channels=256, num_outs=5
    )
    assert cfg.model.backbone == dict(
        type='se_backbones.SEResNet',
        depth=18,
        act_before_se=True,
        stem_pool_cfg=dict(kernel_size=3, stride=2, padding=0, ceil_mode=True),
        se_cfg=dict(divisor=1),
        style='pytorch',
        **MMDET_DETECTION_SETTINGS,
        init_cfg=dict(
            type='se_backbones.TimmPretrained',
            model_name='legacy_seresnet18.in1k',
            missing_ok=True,
        ),
    )
    assert cfg.model.data_preprocessor.mean == [123.675, 116.28, 103.53]  # timm's already
    assert cfg.custom_imports == dict(imports=['se_backbones'], allow_failed_imports=False)


def test_the_twin_is_computed_without_out_and_then_nothing_is_written(base, tmp_path):
    twin = make_se_config(base, arch='se_r18')
    assert twin.path is None and os.listdir(tmp_path) == ['base.py']
    assert (twin.base, twin.arch, twin.model_name) == (base, 'se_r18', None)
    # the notes: the weights' first, then the rules'
    assert twin.notes[0].startswith('arch=se_r18 alone: the backbone starts UNTRAINED')
    assert twin.notes[1].startswith('the base freezes parts of its backbone (frozen_stages=1')
    assert twin.notes[2] == "untrained: the data preprocessor keeps the base's normalisation"
    assert len(twin.notes) == 3
    assert twin.text.splitlines()[0] == f'# SE twin of {base}: se_r18 (untrained)'
    assert f'_base_ = {base!r}' in twin.text.splitlines()


@pytest.mark.parametrize(
    'out, overwrite, message',
    [
        ('twin.txt', False, 'out={out!r} must be a .py file (MMEngine reads configs by suffix)'),
        ('exists.py', False, 'out={out!r} exists (overwrite=True replaces it)'),
        ('base.py', True, 'out is the base config itself'),
    ],
)
def test_an_out_that_cannot_be_written_is_refused(base, tmp_path, out, overwrite, message):
    (tmp_path / 'exists.py').write_text('x = 1\n')
    out = str(tmp_path / out)
    with pytest.raises(TwinError) as error:
        make_se_config(base, out, arch='se_r18', **({'overwrite': True} if overwrite else {}))
    assert str(error.value) == message.format(out=out)
    assert (tmp_path / 'exists.py').read_text() == 'x = 1\n' and (tmp_path / 'base.py').exists()
    assert sorted(os.listdir(tmp_path)) == ['base.py', 'exists.py']


def test_overwrite_replaces_an_existing_twin(base, tmp_path):
    out = tmp_path / 'exists.py'
    out.write_text('x = 1\n')
    make_se_config(base, str(out), arch='se_r18', overwrite=True)
    assert Config.fromfile(str(out)).model.backbone.depth == 18


@pytest.mark.parametrize(
    'text',
    [
        "default_scope = 'mmdet'\nmodel = dict(type='SemiBaseDetector', detector=dict())\n",
        "default_scope = 'mmdet'\nmodel = dict(type='X', backbone='ResNet')\n",
        "default_scope = 'mmdet'\nmodel = 'RetinaNet'\n",
    ],
)
def test_a_base_without_a_backbone_dict_is_refused(tmp_path, text):
    path = tmp_path / 'wrapper.py'
    path.write_text(text)
    with pytest.raises(TwinError) as error:
        make_se_config(str(path), str(tmp_path / 'twin.py'), arch='se_r18')
    assert str(error.value) == (
        f'base config {str(path)!r} has no model.backbone dict (a wrapper model, e.g. a '
        'semi-supervised teacher/student, or a backbone set otherwise); not mapped'
    )
    assert os.listdir(tmp_path) == ['wrapper.py']


CLS = """
default_scope = 'mmpretrain'
custom_imports = dict(imports=['se_backbones', 'os.path'], allow_failed_imports=False)
data_preprocessor = dict(num_classes=1000, mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(3,)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=2048))
"""


def test_top_level_settings_and_the_bases_imports_are_written(tmp_path):
    path = tmp_path / 'cls.py'
    path.write_text(CLS)
    twin = make_se_config(str(path), timm='legacy_seresnet18.in1k')
    lines = twin.text.splitlines()
    assert lines[0] == f'# SE twin of {path}: legacy_se_r18, timm weights legacy_seresnet18.in1k'
    assert lines[1] == (
        '# written by se_backbones.twin.make_se_config (tools/make_se_config.py); changes:'
    )
    start = lines.index(f'_base_ = {str(path)!r}')
    assert all(line.startswith('#   ') for line in lines[2:start])
    assert lines[start + 1 : start + 6] == [
        # se_backbones once; the base's other imports kept
        "custom_imports = dict(imports=['se_backbones', 'os.path'], allow_failed_imports=False)",
        # one line would be 98 characters with its key: one item a line
        'data_preprocessor = dict(',
        '    mean=[123.675, 116.28, 103.53],',
        '    std=[58.395, 57.12, 57.375],',
        '    to_rgb=True)',
    ]
    assert lines[start + 6].startswith('model = dict(')
    assert (
        '#   model.head.in_channels: 2048 -> 512 (legacy_se_r18 widths [512] at out_indices '
        '(3,), not [2048])' in lines
    )


def test_a_local_checkpoint_is_loaded_by_the_twin(base, tmp_path):
    path = save_timm('legacy_seresnet18', tmp_path)
    out = str(tmp_path / 'twin.py')
    twin = make_se_config(base, out, arch='legacy_se_r18', checkpoint=path)
    assert twin.model_name == 'legacy_seresnet18'
    assert Config.fromfile(out).model.backbone.init_cfg == dict(
        type='se_backbones.TimmPretrained', model_name='legacy_seresnet18', checkpoint=path
    )


def test_a_toolkit_name_is_not_the_local_file_of_that_name(tmp_path, monkeypatch):
    name = 'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py'
    monkeypatch.chdir(tmp_path)
    os.makedirs('mmdet::retinanet')
    with open(name, 'w') as f:  # a local file named as the toolkit's config
        f.write('x = 1\n')
    make_se_config(name, name, arch='se_r18', overwrite=True)  # not "out is the base"
    assert Config.fromfile(name).model.backbone.type == 'se_backbones.SEResNet'
