import pytest
import timm

from se_backbones import TIMM_ARCHS, backbone_cfg_from_timm


def test_every_supported_name_is_a_timm_model():
    assert set(TIMM_ARCHS) <= set(timm.list_models())


def test_covers_timm_se_and_eca_resnets_except_other_families():
    """Every timm SE-ResNet/ResNeXt, SENet-154 and ECA-ResNet of the ResNet or legacy SENet
    families is supported, except the anti-aliased ones, the pruned ECA-ResNets (other widths)
    and ecaresnetlight (other depths); ByobNet *ts and NFNets are other families."""
    timm_names = set(timm.list_models('*seres*')) - set(timm.list_models('*seres*ts'))
    timm_names |= set(timm.list_models('ecaresnet*')) | set(timm.list_models('*senet154'))
    timm_names -= set(timm.list_models('nf_*'))
    unsupported = {n for n in timm_names if 'aa' in n or 'pruned' in n or 'light' in n}
    assert timm_names - unsupported == set(TIMM_ARCHS)


def test_pretrained_tag_is_accepted_and_configs_are_copies():
    cfg = backbone_cfg_from_timm('seresnet50.a1_in1k')
    assert cfg == dict(type='se_backbones.SEResNet', depth=50)
    legacy = backbone_cfg_from_timm('legacy_seresnet50')
    legacy['se_cfg']['divisor'] = 8
    assert backbone_cfg_from_timm('legacy_seresnet50')['se_cfg'] == dict(divisor=1)


@pytest.mark.parametrize(
    'name', ['seresnet33ts', 'vit_base_patch16_224', 'senet50', 'seresnetaa50d.a1_in1k', 'resnet50']
)
def test_unsupported_names_are_named_with_the_supported_list(name):
    with pytest.raises(
        ValueError,
        match=rf"timm model '{name}' is not an SE-ResNet.*"
        r'supported: seresnet18, seresnet34',
    ):
        backbone_cfg_from_timm(name)
