import huggingface_hub
import pytest
import timm
import torch
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import DefaultScope

from se_backbones import SEResNet, backbone_cfg_from_timm
from tools.check_timm import max_rel_diff, randomize_, timm_stage_features


@pytest.fixture(scope='module')
def timm_seresnet18(tmp_path_factory):
    model = randomize_(timm.create_model('seresnet18', pretrained=False)).eval()
    path = str(tmp_path_factory.mktemp('timm') / 'seresnet18.pth')
    torch.save(model.state_dict(), path)
    return model, path


def build_in_mmdet(**kwargs):
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MMDET_MODELS.build(dict(backbone_cfg_from_timm('seresnet18'), **kwargs))


def test_init_cfg_loads_a_local_timm_checkpoint(timm_seresnet18):
    theirs, path = timm_seresnet18
    ours = build_in_mmdet(init_cfg=dict(type='se_backbones.TimmPretrained',
                                        model_name='seresnet18.a1_in1k', checkpoint=path))
    ours.init_weights()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert max_rel_diff(ours.eval()(x), timm_stage_features(theirs, x)) < 1e-5


def test_timm_init_runs_after_the_default_init(timm_seresnet18):
    """A Kaiming entry beside it must not overwrite the loaded weights (SE convs included)."""
    theirs, path = timm_seresnet18
    ours = build_in_mmdet(init_cfg=[
        dict(type='Kaiming', layer='Conv2d'),
        dict(type='se_backbones.TimmPretrained', model_name='seresnet18', checkpoint=path)])
    ours.init_weights()
    torch.testing.assert_close(ours.layer1[0].se_layer.conv1.conv.weight,
                               theirs.layer1[0].se.fc1.weight)


def test_offline_without_checkpoint_fails_with_one_clear_message(monkeypatch, tmp_path):
    monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_OFFLINE', True)
    monkeypatch.setenv('HF_HOME', str(tmp_path))
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    ours = SEResNet(depth=18, pretrained='timm://seresnet18.a1_in1k')
    assert ours.init_cfg == dict(type='se_backbones.TimmPretrained',
                                 model_name='seresnet18.a1_in1k')
    weights = ours.conv1.weight.clone()
    with pytest.raises(RuntimeError, match=r"timm could not provide pretrained weights for "
                                           r"'seresnet18\.a1_in1k'.*pass checkpoint="):
        ours.init_weights()
    torch.testing.assert_close(ours.conv1.weight, weights)


def test_wrong_architecture_is_refused_before_loading(timm_seresnet18):
    _, path = timm_seresnet18
    ours = SEResNet(depth=18, deep_stem=True, init_cfg=dict(
        type='se_backbones.TimmPretrained', model_name='seresnet18', checkpoint=path))
    with pytest.raises(ValueError, match=r'SEResNet is not the architecture of seresnet18 '
                                         r'\(deep_stem=True \(needs False\).*backbone_cfg_from'):
        ours.init_weights()
    legacy = SEResNet(depth=18, stage_with_se=(False, True, True, True), init_cfg=dict(
        type='se_backbones.TimmPretrained', model_name='seresnet18', checkpoint=path))
    before = {k: v.clone() for k, v in legacy.state_dict().items()}
    with pytest.raises(ValueError, match=r'does not fit the backbone: 8 unexpected keys: '
                                         r'layer1\.0\.se_layer'):
        legacy.init_weights()
    for key, value in legacy.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_unknown_timm_name_fails_at_build():
    with pytest.raises(ValueError, match="timm model 'seresnet33ts' is not an SE-ResNet"):
        SEResNet(depth=50, pretrained='timm://seresnet33ts').init_weights()
