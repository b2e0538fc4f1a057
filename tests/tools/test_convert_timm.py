import os
import re

import pytest
import timm
import torch
from mmengine.config import Config
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


@pytest.fixture(scope='module')
def seresnet18(tmp_path_factory):
    """A randomized timm seresnet18 (1000 classes): (its state dict, the file it is saved in)."""
    theirs = randomize_(timm.create_model('seresnet18')).state_dict()
    path = str(tmp_path_factory.mktemp('timm') / 'seresnet18.pth')
    torch.save(theirs, path)
    return theirs, path


# seresnet18's tensors by group, counted by hand: the stem is conv1 and bn1 (weight, bias,
# running mean and var, batch count); a stage is 2 basic blocks of 2 convs + BNs (12 each), their
# SE (fc1 and fc2, weight and bias: 4 each), and from layer2 on a downsample conv + BN (6)
GROUPS = [('stem', 6)] + [
    (f'layer{i} {kind}', count)
    for i in (1, 2, 3, 4)
    for kind, count in (('convs+BN', 24), ('SE', 8), ('downsample', 6))
    if i > 1 or kind != 'downsample'
]


@pytest.mark.parametrize('classifier', [False, True], ids=['backbone', 'classifier'])
def test_what_is_written_and_printed(seresnet18, classifier, tmp_path, capsys):
    """The checkpoint: timm's tensors under our names, with a meta naming the model; the
    printed lines: the count, the groups, the config to load it with (also returned)."""
    theirs, src = seresnet18
    dst = str(tmp_path / 'ours.pth')
    cfg = main(['seresnet18', src, dst, *['--classifier'] * classifier])
    saved = torch.load(dst, weights_only=True)
    assert saved['meta'] == dict(timm_model='seresnet18', converter='se_backbones')
    prefix = 'backbone.' if classifier else ''
    pairs = [
        ('conv1.weight', 'conv1.weight'),
        ('layer3.0.se.fc2.bias', 'layer3.0.se_layer.conv2.conv.bias'),
    ]
    pairs += [('fc.weight', 'head.fc.weight'), ('fc.bias', 'head.fc.bias')] * classifier
    for timm_key, key in pairs:
        ours = saved['state_dict'][key if key.startswith('head.') else prefix + key]
        assert torch.equal(ours, theirs[timm_key]), key
    groups = GROUPS + [('classifier', 2)] * classifier
    count = sum(n for _, n in groups)
    assert len(saved['state_dict']) == count == 152 + 2 * classifier
    backbone = dict(type='se_backbones.SEResNet', depth=18)
    pretrained = dict(type='Pretrained', checkpoint=dst)
    if classifier:
        expected = dict(
            type='ImageClassifier',
            backbone=dict(backbone, out_indices=(3,)),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=1000, in_channels=512),
            init_cfg=pretrained,
        )
    else:
        expected = dict(backbone, init_cfg=pretrained)
    assert cfg == expected
    out = capsys.readouterr().out
    head, config = out.split('config:\n')
    assert head.splitlines() == [
        f'seresnet18: wrote {count} tensors to {dst}; keys by group:',
        *(f'  {group:22s} {n:4d}' for group, n in groups),
    ]
    assert Config.fromstring(config, '.py').to_dict() == {
        'custom_imports': dict(imports=['se_backbones']),
        'model' if classifier else 'backbone': expected,
    }


@pytest.mark.parametrize(
    'argv, message',
    [
        (
            ['seresnet18', 'SRC', 'no_folder/out.pth'],
            "the folder of the output 'no_folder/out.pth' does not exist",
        ),
        (['seresnet18', 'missing.pth', 'out.pth'], "timm checkpoint 'missing.pth' does not exist"),
        (  # another architecture
            ['legacy_seresnet18', 'SRC', 'out.pth'],
            'legacy_seresnet18: 6 timm keys have no mapping: conv1.weight, bn1.weight, ...',
        ),
        (  # a KeyError: its message without the quotes str() puts around it
            ['resnet50', 'SRC', 'out.pth'],
            "timm model 'resnet50' is not an SE-ResNet that se_backbones reproduces; supported: "
            'seresnet18, seresnet34, ... ecaresnet200d, ecaresnet269d',
        ),
        (  # a key name in quotes, the quotes kept
            ['seresnet18', 'SRC+X', 'out.pth'],
            'seresnet18: 1 timm keys have no mapping: "X"',
        ),
    ],
)
def test_what_cannot_be_converted_is_one_line_and_exit_status_2(
    argv, message, seresnet18, tmp_path, capsys, monkeypatch
):
    """Exit status 2, one line: the tool's name and the message (``...``: a part left out
    here), nothing written."""
    monkeypatch.chdir(tmp_path)
    if 'SRC+X' in argv:  # seresnet18's state dict and a stray key '"X"'
        torch.save({**seresnet18[0], '"X"': torch.zeros(1)}, 'src.pth')
    else:
        os.symlink(seresnet18[1], 'src.pth')
    with pytest.raises(SystemExit) as exit:
        main(['src.pth' if a.startswith('SRC') else a for a in argv])
    err = capsys.readouterr().err
    head, elided, tail = message.partition('...')
    assert exit.value.code == 2 and err.count('\n') == 1
    assert err.startswith(f'convert_timm.py: error: {head}') and err.endswith(tail + '\n')
    assert elided or err == f'convert_timm.py: error: {message}\n'
    assert sorted(os.listdir(tmp_path)) == ['src.pth']


def test_a_key_error_is_its_message_without_quotes(seresnet18, tmp_path, capsys, monkeypatch):
    """A KeyError from the conversion is one line too, its message as raised (str() of a
    KeyError adds quotes)."""
    import se_backbones

    def convert(*args, **kwargs):
        raise KeyError("no 'fc' in   the\ncheckpoint")

    monkeypatch.setattr(se_backbones, 'convert_timm_state_dict', convert)
    with pytest.raises(SystemExit) as exit:
        main(['seresnet18', seresnet18[1], str(tmp_path / 'out.pth')])
    assert exit.value.code == 2 and not os.listdir(tmp_path)
    assert capsys.readouterr().err == "convert_timm.py: error: no 'fc' in the checkpoint\n"
