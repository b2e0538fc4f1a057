"""A pytest plugin that runs mmseg's own ResNet tests against se_backbones' classes.

:mod:`tests.upstream.test_mmseg_resnet_suite` loads it (``-p mmseg_substitute``) into a fresh
pytest that collects the test file mmseg's wheel installs, unchanged. Its autouse fixture swaps
the names that file and its ``utils`` imported from mmseg for ours, before each test:

- ``ResNet`` is :class:`~se_backbones.SEResNet` with SE in every stage (its default), so the
  backbone tests (argument errors and their types, frozen stages, ``norm_eval``, ``with_cp``,
  GroupNorm, plugin widths, the zero-init of each block's last norm, output shapes) check the
  SE network a user builds; ``ResNetV1d`` is the same with ``deep_stem`` and ``avg_down``, as
  mmseg's is.
- ``BasicBlock`` and ``Bottleneck`` are our block classes, so ``isinstance`` in the tests finds
  the blocks our backbone builds; a block the tests build directly has no attention (the
  classes' default), so the block tests check that our blocks take mmseg's arguments and
  refuse what mmseg's refuse with the same exception types.
- ``torchvision://resnet18`` is served offline: ``TORCH_HOME`` points to a checkpoint of
  torchvision's (randomly initialised) resnet18 under the file name the URL names.

Nothing of mmseg's is copied: the file runs from site-packages. With
``SE_BACKBONES_PLANT=plain_errors`` in the environment our errors lose the toolkit's type (the
bug of issue #25), to show that the suite catches it.
"""

import os

import pytest

from se_backbones import SEResNet
from se_backbones.backbones.se_blocks import SEBasicBlock, SEBottleneck


class SEResNetV1d(SEResNet):
    """mmseg's ``ResNetV1d``: the deep stem and average-pool downsampling."""

    def __init__(self, **kwargs):
        super().__init__(deep_stem=True, avg_down=True, **kwargs)


SUBSTITUTES = dict(
    ResNet=SEResNet, ResNetV1d=SEResNetV1d, BasicBlock=SEBasicBlock, Bottleneck=SEBottleneck
)


@pytest.fixture(scope='session')
def offline_torchvision(tmp_path_factory):
    """A ``TORCH_HOME`` holding ``torchvision://resnet18`` (random weights of its shapes)."""
    import torch
    import torchvision
    from mmengine.runner.checkpoint import get_torchvision_models

    home = tmp_path_factory.mktemp('torch_home')
    checkpoints = home / 'hub' / 'checkpoints'
    checkpoints.mkdir(parents=True)
    url = get_torchvision_models()['resnet18']
    torch.save(torchvision.models.resnet18().state_dict(), checkpoints / os.path.basename(url))
    return str(home)


@pytest.fixture(autouse=True)
def substitute_our_classes(request, monkeypatch, offline_torchvision):
    """Our classes under mmseg's names, in the test module and the helpers it imported."""
    monkeypatch.setenv('TORCH_HOME', offline_torchvision)
    if os.environ.get('SE_BACKBONES_PLANT') == 'plain_errors':
        from se_backbones import checks
        from se_backbones.backbones import se_blocks

        for module in (checks, se_blocks):
            monkeypatch.setattr(module, 'error_class', lambda ours, toolkit=None: ours)
    helpers = __import__(f'{request.module.__package__}.utils', fromlist=['is_block'])
    for module in (request.module, helpers):
        for name, ours in SUBSTITUTES.items():
            if hasattr(module, name):
                monkeypatch.setattr(module, name, ours)
