"""The base config: found by path or by its toolkit name, loaded, its toolkit decided; each
failure one TwinError naming it."""

import importlib.util
import os

import pytest

from se_backbones.twin import TwinError, make_se_config
from se_backbones.twin.base import base_path, toolkit_root

R50_FPN = 'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'


def mim(package):
    return os.path.join(
        os.path.dirname(importlib.util.find_spec(package).origin), '.mim', 'configs'
    )


def test_a_toolkit_name_is_the_file_among_the_installed_configs():
    for package in ('mmdet', 'mmseg', 'mmpretrain'):
        assert toolkit_root(package) == mim(package)
    assert base_path(f'mmdet::{R50_FPN}') == os.path.join(mim('mmdet'), R50_FPN)
    assert toolkit_root('no_such_package_here') is None and toolkit_root('os') is None
    assert toolkit_root('no_such_package_here.sub') is None  # find_spec raises there


@pytest.mark.parametrize(
    'base, message',
    [
        ('missing.py', "base config 'missing.py' does not exist"),
        (
            'mmfoo::x.py',
            "base config 'mmfoo::x.py': the scope must be one of mmdet::, mmseg::, mmpretrain::",
        ),
        (  # the scope is the name before the first '::'
            'mmdet::nofolder::x.py',
            f"base config 'mmdet::nofolder::x.py': mmdet has no config 'nofolder::x.py' (looked "
            f'in {mim("mmdet")})',
        ),
        (
            'mmdet::nofolder/x.py',
            f"base config 'mmdet::nofolder/x.py': mmdet has no config 'nofolder/x.py' (looked in "
            f'{mim("mmdet")})',
        ),
    ],
)
def test_a_base_that_is_not_there_is_refused(base, message, tmp_path):
    with pytest.raises(TwinError) as error:
        make_se_config(base, str(tmp_path / 'twin.py'), arch='se_r18')
    assert str(error.value) == message
    assert os.listdir(tmp_path) == []


def test_a_misspelt_toolkit_config_gets_two_similar_names():
    with pytest.raises(TwinError) as error:
        base_path('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_cocoo.py')
    prefix = (
        "base config 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_cocoo.py': mmdet has no config "
        f"'faster_rcnn/faster-rcnn_r50_fpn_1x_cocoo.py' (looked in {mim('mmdet')}); similar: "
    )
    assert str(error.value).startswith(prefix)
    similar = str(error.value)[len(prefix) :].split(', ')
    assert similar[0] == 'faster-rcnn_r50_fpn_1x_coco.py' and len(similar) == 2
    assert all(os.path.isfile(os.path.join(mim('mmdet'), 'faster_rcnn', s)) for s in similar)


@pytest.fixture
def without_mmpretrain(monkeypatch):
    """importlib finds no mmpretrain (as where it is not installed)."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        'find_spec',
        lambda name, *args: None if name == 'mmpretrain' else find_spec(name, *args),
    )


def test_a_toolkit_that_is_not_installed_is_named(without_mmpretrain, tmp_path):
    with pytest.raises(TwinError) as error:
        make_se_config('mmpretrain::resnet/resnet18_8xb32_in1k.py', arch='se_r18')
    assert str(error.value) == (
        "base config 'mmpretrain::resnet/resnet18_8xb32_in1k.py': mmpretrain is not installed"
    )
    local = tmp_path / 'cls.py'
    local.write_text("default_scope = 'mmpretrain'\nmodel = dict(backbone=dict(type='ResNet'))\n")
    with pytest.raises(TwinError) as error:
        make_se_config(str(local), arch='se_r18')
    assert str(error.value) == 'mmpretrain is not installed (pip install se_backbones[mmpretrain])'
    # an mmdet base does not need mmpretrain
    mmdet = tmp_path / 'det.py'
    mmdet.write_text(
        "default_scope = 'mmdet'\n"
        "model = dict(backbone=dict(type='ResNet', depth=18), neck=dict(in_channels=[64]),\n"
        '             data_preprocessor=dict(mean=[0, 0, 0]))\n'
    )
    assert make_se_config(str(mmdet), arch='se_r18').arch == 'se_r18'


def test_a_toolkit_config_without_default_scope_is_of_the_toolkit_it_names():
    twin = make_se_config('mmseg::_base_/models/pspnet_r50-d8.py', arch='se_r18')
    assert twin.text.splitlines()[2] == (  # ResNetV1c: mmseg's (mmdet has none)
        "#   model.backbone.type: 'ResNetV1c' -> 'se_backbones.SEResNet' (se_r18, seresnet18's "
        'architecture: the weights decide it)'
    )


@pytest.mark.parametrize(
    'text, message',
    [
        ("model = dict(backbone=dict(type='ResNet', depth=50))\n", 'default_scope is None'),
        (
            "default_scope = 'mmyolo'\nmodel = dict(backbone=dict(type='ResNet'))\n",
            "default_scope is 'mmyolo'",
        ),
    ],
)
def test_the_toolkit_is_the_bases_default_scope(tmp_path, text, message):
    path = tmp_path / 'base.py'
    path.write_text(text)
    with pytest.raises(TwinError) as error:
        make_se_config(str(path), arch='se_r18')
    assert str(error.value) == (
        f'base config {str(path)!r}: {message}, not one of mmdet, mmseg, mmpretrain (the '
        'toolkit decides the backbone classes)'
    )


def test_a_base_mmengine_cannot_load_is_one_line_with_what_it_said(tmp_path):
    path = tmp_path / 'broken.py'
    path.write_text('model = dict(\n')
    with pytest.raises(TwinError) as error:
        make_se_config(str(path), arch='se_r18')
    assert str(error.value).startswith(f'cannot load base config {str(path)!r}: SyntaxError: ')
    assert '\n' not in str(error.value)
    path.write_text("raise ValueError('a  b\\n c')\n")
    with pytest.raises(TwinError) as error:
        make_se_config(str(path), arch='se_r18')
    assert str(error.value) == f'cannot load base config {str(path)!r}: ValueError: a b c'
    path.write_text(f"_base_ = ['{'x' * 400}.py']\n")
    with pytest.raises(TwinError) as error:
        make_se_config(str(path), arch='se_r18')
    head = f'cannot load base config {str(path)!r}: '
    assert str(error.value).startswith(head)
    reason = str(error.value)[len(head) :]
    assert len(reason.split(': ', 1)[1]) == 300  # what MMEngine said, cut at 300 characters
