import os
import re

import pytest
import timm
import torch
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

from se_backbones import MODELS
from se_backbones.weights.equivalence import max_rel_diff, randomize_, timm_stage_features
from tools.convert_timm import main


def test_backbone_checkpoint_loads_with_pretrained_init(tmp_path, capsys):
    theirs = randomize_(timm.create_model('legacy_seresnet18')).eval()
    src, dst = str(tmp_path / 'timm.pth'), str(tmp_path / 'ours.pth')
    torch.save(theirs.state_dict(), src)
    cfg = main(['legacy_seresnet18.in1k', src, dst])
    out = capsys.readouterr().out
    assert re.search(r'layer1 SE +8\n', out) and 'classifier' not in out
    assert "type='Pretrained'" in out and "type='se_backbones.SEResNet'" in out
    ours = MODELS.build(dict(cfg, out_indices=(0, 1, 2, 3)))
    ours.init_weights()
    x = torch.randn(1, 3, 75, 75)
    with torch.no_grad():
        assert max_rel_diff(ours.eval()(x), timm_stage_features(theirs, x)) < 1e-5


def test_classifier_checkpoint_gives_timm_logits(tmp_path, capsys):
    theirs = randomize_(timm.create_model('seresnet18', num_classes=7)).eval()
    src, dst = str(tmp_path / 'timm.pth'), str(tmp_path / 'cls.pth')
    torch.save(theirs.state_dict(), src)
    cfg = main(['seresnet18', src, dst, '--classifier'])
    assert re.search(r'classifier +2\n', capsys.readouterr().out)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        classifier = MMPRETRAIN_MODELS.build(cfg)
    load_checkpoint(classifier, dst, strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert max_rel_diff([classifier.eval()(x, mode='tensor')], [theirs(x)]) < 1e-5


def test_keys_are_counted_by_group():
    from tools.convert_timm import key_group

    assert [
        key_group(k)
        for k in (
            'backbone.layer2.0.se_layer.conv1.conv.weight',
            'layer1.0.downsample.0.weight',
            'backbone.layer4.2.conv3.weight',
            'stem.3.weight',
            'backbone.conv1.weight',
            'head.fc.bias',
        )
    ] == ['layer2 SE', 'layer1 downsample', 'layer4 convs+BN', 'stem', 'stem', 'classifier']


def test_the_checkpoint_names_the_timm_model_and_the_output(tmp_path, capsys):
    src, dst = str(tmp_path / 'timm.pth'), str(tmp_path / 'ours.pth')
    torch.save(randomize_(timm.create_model('seresnet18')).state_dict(), src)
    cfg = main(['seresnet18', src, dst])
    saved = torch.load(dst, weights_only=True)
    assert saved['meta'] == dict(timm_model='seresnet18', converter='se_backbones')
    assert cfg == dict(
        type='se_backbones.SEResNet', depth=18, init_cfg=dict(type='Pretrained', checkpoint=dst)
    )
    out = capsys.readouterr().out.splitlines()
    assert (
        out[0] == f'seresnet18: wrote {len(saved["state_dict"])} tensors to {dst}; keys by group:'
    )
    assert out[1] == f'  {"stem":22s} {6:4d}' and 'config:' in out


@pytest.mark.parametrize(
    'argv, message',
    [
        (
            ['seresnet18', 'SRC', 'no_folder/out.pth'],
            "the folder of the output 'no_folder/out.pth' does not exist",
        ),
        (['legacy_seresnet18', 'SRC', 'out.pth'], 'legacy_seresnet18'),  # another architecture
        (['resnet50', 'SRC', 'out.pth'], "timm model 'resnet50' is not an SE-ResNet"),
    ],
)
def test_what_cannot_be_converted_is_one_line_and_exit_status_2(
    argv, message, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    torch.save(timm.create_model('seresnet18').state_dict(), 'src.pth')
    with pytest.raises(SystemExit) as exit:
        main(['src.pth' if a == 'SRC' else a for a in argv])
    err = capsys.readouterr().err
    assert exit.value.code == 2 and err.startswith('convert_timm.py: error: ') and message in err
    assert err.count('\n') == 1 and sorted(os.listdir(tmp_path)) == ['src.pth']
