"""The sweep (docs/se_twin.md): shipped toolkit configs twinned or refused with a reason.

By default every 25th shipped config is twinned (``legacy_seresnet18.in1k``: the widths change
downstream) or refused with a TwinError. ``SE_TWIN_SWEEP=1`` runs every shipped config with two
targets, builds and runs each twin, and trains 20 sampled twins (detectors, segmentors,
classifiers) one toy step with weights from a local timm checkpoint (a randomized legacy
SE-ResNet-18), starting from the file's weights. See :mod:`tests.twin.sweep`."""

import collections
import os

import pytest

from se_backbones.twin import make_se_config
from se_backbones.twin.base import TOOLKITS, base_path
from tests.twin.sweep import TARGETS, build_and_forward, counts, shipped, twin_all
from tests.twin.toy_steps import check_loaded, save_timm, train_step

BUILD_ALL = os.environ.get('SE_TWIN_SWEEP_BUILD') == 'all'  # else one twin per config folder
SAMPLE = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
    'mmdet::atss/atss_r50_fpn_1x_coco.py',
    'mmdet::gfl/gfl_r50_fpn_1x_coco.py',
    'mmdet::cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco.py',
    'mmdet::yolof/yolof_r50-c5_8xb8-1x_coco.py',
    'mmdet::detr/detr_r50_8xb2-150e_coco.py',
    'mmdet::tood/tood_r50_fpn_1x_coco.py',
    'mmdet::centernet/centernet-update_r50-caffe_fpn_ms-1x_coco.py',
    'mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    'mmseg::knet/knet-s3_r50-d8_fcn_8xb2-adamw-80k_ade20k-512x512.py',
    'mmseg::danet/danet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    'mmseg::apcnet/apcnet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    'mmseg::sem_fpn/fpn_r50_4xb2-80k_cityscapes-512x1024.py',
    'mmseg::gcnet/gcnet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    'mmseg::nonlocal_net/nonlocal_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    'mmpretrain::resnet/resnet18_8xb32_in1k.py',
    'mmpretrain::resnet/resnetv1c50_8xb32_in1k.py',
    'mmpretrain::resnet/resnetv1d50_8xb32_in1k.py',
    'mmpretrain::resnext/resnext50-32x4d_8xb32_in1k.py',
]


@pytest.fixture(scope='module')
def legacy_r18(tmp_path_factory):
    return save_timm('legacy_seresnet18', tmp_path_factory.mktemp('timm'))


def test_the_sample_spans_the_three_toolkits():
    kinds = collections.Counter(name.split('::')[0] for name in SAMPLE)
    assert len(SAMPLE) >= 20 and min(kinds[t] for t in TOOLKITS) >= 4, kinds


@pytest.mark.sweep  # 20 train steps: 4-10 minutes on 2 CPU cores
@pytest.mark.parametrize('base', SAMPLE)
def test_a_sampled_twin_trains_a_step_with_the_checkpoints_weights(
    base, legacy_r18, toy_root, tmp_path
):
    out = str(tmp_path / 'twin.py')
    make_se_config(base, out, timm='legacy_seresnet18.in1k', checkpoint=legacy_r18)
    runner, probe = train_step(out, base.split('::')[0], tmp_path, toy_root)
    check_loaded(probe, 'legacy_seresnet18', legacy_r18)
    assert 'backbone' in probe.check(runner)


@pytest.mark.parametrize('package', TOOLKITS)
def test_every_25th_shipped_config_is_twinned_or_refused_with_a_reason(package, tmp_path):
    """The cheap sample of the sweep (default runs): a twin MMEngine loads, or a TwinError."""
    names = shipped(package)[::25]
    family, _ = counts(twin_all(names, 'legacy_seresnet18.in1k', str(tmp_path)))
    assert family['twinned'] > 0 and not any(k.startswith('other') for k in family), family


@pytest.mark.sweep
@pytest.mark.parametrize('timm', TARGETS)
@pytest.mark.parametrize('package', TOOLKITS)
def test_every_shipped_resnet_config_is_twinned_or_refused_with_a_reason(package, timm, tmp_path):
    names = shipped(package)
    results = twin_all(names, timm, str(tmp_path))  # any other exception fails the test
    family, _ = counts(results)
    assert family['twinned'] > 0 and not any(k.startswith('other') for k in family), family
    failures, base_fails, folders, tried = {}, {}, set(), 0
    for name, (kind, path) in results.items():
        folder = name.rsplit('/', 1)[0]  # one per config folder: they share their models
        if kind == 'twin' and (folder not in folders or BUILD_ALL):
            folders.add(folder)
            tried += 1
            try:
                build_and_forward(path, package)
            except Exception as error:  # the base's own failure excuses it below
                failures[name] = f'{type(error).__name__}: {error}'[:300]
    for name in list(failures):
        try:
            build_and_forward(base_path(name), package)
        except Exception as error:  # the base does not build or run here either
            base_fails[name] = f'{type(error).__name__}: {str(error)[:100]}'
            del failures[name]
    print(
        f'{timm} {package}: {len(names)} configs, ResNet family {dict(family)}; built and '
        f'ran {tried - len(base_fails)}; base fails here too: '
        f'{base_fails}'
    )
    assert not failures, failures
