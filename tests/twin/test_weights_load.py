"""Weights load into every twin that builds: DCN, DCNv2, GCNet and generalized-attention twins
of mmdet's configs train a step with a local timm checkpoint; a checkpoint of another
architecture is refused when the twin is made (one line, exit status 2, nothing written)."""

import os
import subprocess
import sys

import pytest

from se_backbones.twin import TwinError, make_se_config
from tests.configs.toy import ROOT
from tests.twin.toy_steps import check_loaded, save_timm, train_step

ADDED = {  # base -> a key the base's config adds to the backbone (keeps its own init)
    'mmdet::dcnv2/faster-rcnn_r50-mdconv-c3-c5_fpn_1x_coco.py': 'conv2.conv_offset',
    'mmdet::gcnet/mask-rcnn_r50-gcb-r4-c3-c5_fpn_1x_coco.py': 'context_block',
    # with the full sweep only (CI time; their loading is tests/weights/test_init_added.py's)
    'mmdet::dcn/faster-rcnn_r50-dconv-c3-c5_fpn_1x_coco.py': 'conv2.conv_offset',
    'mmdet::empirical_attention/faster-rcnn_r50-attn0010_fpn_1x_coco.py': 'gen_attention',
}
SLOW = ('mmdet::dcn/', 'mmdet::empirical_attention/')


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp('timm')
    return {arch: save_timm(arch, folder) for arch in ('seresnet50', 'legacy_seresnet18')}


@pytest.mark.parametrize(
    'base', [pytest.param(b, marks=pytest.mark.sweep) if b.startswith(SLOW) else b for b in ADDED]
)
def test_plugin_and_dcn_twins_train_a_step_with_the_checkpoints_weights(
    base, files, toy_root, tmp_path
):
    out = str(tmp_path / 'twin.py')
    make_se_config(base, out, timm='seresnet50.a1_in1k', checkpoint=files['seresnet50'])
    runner, probe = train_step(out, 'mmdet', tmp_path, toy_root)
    check_loaded(probe, 'seresnet50', files['seresnet50'])
    added = [k for k in probe.before if k.startswith('backbone.') and ADDED[base] in k]
    assert added  # the config's own layers are there, and trained
    assert 'backbone' in probe.check(runner)


def test_a_checkpoint_of_another_architecture_is_refused_naming_it(files, tmp_path):
    with pytest.raises(TwinError) as error:
        make_se_config(
            'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
            str(tmp_path / 'x.py'),
            timm='seresnet50.a1_in1k',
            checkpoint=files['legacy_seresnet18'],
        )
    assert str(error.value) == (
        f'checkpoint={files["legacy_seresnet18"]!r} is not a seresnet50 state dict, the '
        'architecture of seresnet50.a1_in1k: it seems to be legacy_seresnet18 '
        '(timm=legacy_seresnet18 or arch=legacy_se_r18)'
    )
    assert not os.listdir(tmp_path)


def test_a_file_of_no_se_architecture_says_so(tmp_path):
    import timm
    import torch

    path = str(tmp_path / 'resnet18.pth')
    torch.save(timm.create_model('resnet18').state_dict(), path)
    with pytest.raises(
        TwinError,
        match=r'it fits none of the SE architectures se_backbones '
        r"reproduces \(\d+ tensors, first 'conv1.weight'\)",
    ):
        make_se_config(
            'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', arch='se_r50', checkpoint=path
        )


def test_the_command_refuses_a_wrong_checkpoint_at_once(files, tmp_path):
    out = tmp_path / 'twin.py'
    result = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, 'tools', 'make_se_config.py'),
            'mmdet::dcnv2/faster-rcnn_r50-mdconv-c3-c5_fpn_1x_coco.py',
            str(out),
            '--timm',
            'seresnet50.a1_in1k',
            '--checkpoint',
            files['legacy_seresnet18'],
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
        if 'pkg_resources' not in line and '_bootstrap' not in line
    ]
    assert lines == [
        f'make_se_config.py: error: --checkpoint {files["legacy_seresnet18"]!r} is '
        'not a seresnet50 state dict, the architecture of seresnet50.a1_in1k: it '
        'seems to be legacy_seresnet18 (--timm legacy_seresnet18 or --arch '
        'legacy_se_r18)'
    ]
    assert not os.listdir(tmp_path)
