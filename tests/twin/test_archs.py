"""Our architecture names, the weights timm has for each, and what the weights decide; timm's
own registry is the reference."""

import pytest
import timm

from se_backbones.twin import ARCHS, TwinError, arch_of_timm, arch_table
from se_backbones.twin.archs import blocks, describe, normalisation, resolve_arch, with_widths
from se_backbones.weights.timm_archs import TIMM_ARCHS

KNOWN = ', '.join(ARCHS)
LEGACY_R50 = (
    "SEResNet(depth=50, style='caffe', stem_pool_cfg={'kernel_size': 3, 'stride': 2, "
    "'padding': 0, 'ceil_mode': True}, se_cfg={'divisor': 1})"
)


def pretrained(arch):
    return [name for name in timm.list_pretrained() if name.split('.', 1)[0] == arch]


@pytest.mark.parametrize(
    'name, arch',
    [
        ('seresnet50.a1_in1k', 'se_r50'),
        ('seresnext101_64x4d', 'se_x101_64x4d'),
        ('seresnext26t_32x4d.bt_in1k', 'se_x26t_32x4d'),
        ('legacy_seresnet101', 'legacy_se_r101'),
        ('legacy_seresnext50_32x4d', 'legacy_se_x50_32x4d'),
        ('ecaresnet50d.miil_in1k', 'eca_r50d'),
        ('senet154', 'senet154'),
        ('legacy_senet154', 'legacy_senet154'),
    ],
)
def test_our_names_are_timms_shortened(name, arch):
    assert arch_of_timm(name) == arch
    assert resolve_arch(arch) == name.split('.')[0]


@pytest.mark.parametrize(
    'arch, message',
    [
        (
            'seresnet50',
            "unknown architecture 'seresnet50' (that is timm's name: use arch=se_r50, or "
            f'timm=seresnet50); known: {KNOWN}',
        ),
        ('zzzz', f"unknown architecture 'zzzz'; known: {KNOWN}"),
    ],
)
def test_unknown_architectures_are_refused_with_the_known_ones(arch, message):
    with pytest.raises(TwinError) as error:
        resolve_arch(arch)
    assert str(error.value) == message


def test_a_misspelt_architecture_gets_three_suggestions():
    with pytest.raises(TwinError) as error:
        resolve_arch('se_r5O')
    hint = str(error.value).split(' (did you mean ')[1].split('?)')[0]
    assert hint.startswith('se_r50 or ') and len(hint.split(' or ')) == 3
    assert set(hint.split(' or ')) <= set(ARCHS)


def test_the_table_lists_each_architecture_with_timms_weights():
    table = arch_table()
    assert table[:2] == [
        '| --arch | timm architecture | backbone | timm ImageNet weights (--timm) |',
        '|---|---|---|---|',
    ]
    assert len(table) == 2 + len(TIMM_ARCHS)
    assert f'| legacy_se_r50 | legacy_seresnet50 | {LEGACY_R50} | legacy_seresnet50.in1k |' in table
    assert '| se_r18 | seresnet18 | SEResNet(depth=18) | none (untrained) |' in table
    row = f'| se_r50 | seresnet50 | SEResNet(depth=50) | {", ".join(pretrained("seresnet50"))} |'
    assert row in table and len(pretrained('seresnet50')) > 1


def test_describe_and_blocks():
    assert describe('seresnext50_32x4d.racm_in1k') == 'SEResNeXt(depth=50, groups=32, base_width=4)'
    assert describe('legacy_seresnet50') == LEGACY_R50
    assert blocks('seresnet18') == ('SEResNet', 1, (2, 2, 2, 2))
    assert blocks('seresnext101_32x8d') == ('SEResNeXt', 4, (3, 4, 23, 3))
    assert blocks('legacy_senet154') == ('SENet154', 4, (3, 8, 36, 3))


def test_with_widths_names_at_most_three_architectures_with_weights():
    names = with_widths([256, 512, 1024, 2048]).split(', ')
    assert len(names) == 3 and names[0] == 'se_r50'
    assert all(pretrained(ARCHS[n]) for n in names)
    assert with_widths([64, 128, 256, 512]) == 'legacy_se_r18, legacy_se_r34'
    assert with_widths([64, 128, 256, 512], limit=1) == 'legacy_se_r18'
    assert with_widths([256, 512]) == with_widths([256, 512, 1024, 2048])  # the first stages
    assert with_widths([1, 2, 3, 4]) == 'none'


@pytest.mark.parametrize(
    'model_name', ['seresnet50.a1_in1k', 'seresnet50', 'ecaresnet50d.miil_in1k']
)
def test_normalisation_is_timms_pretrained_cfg_times_255(model_name):
    cfg = timm.models.get_pretrained_cfg(model_name).to_dict()
    mean, std = normalisation(model_name)
    assert mean == pytest.approx([v * 255 for v in cfg['mean']], abs=1e-4)
    assert std == pytest.approx([v * 255 for v in cfg['std']], abs=1e-4)
    assert normalisation('seresnet50.a1_in1k') == (
        [123.675, 116.28, 103.53],
        [58.395, 57.12, 57.375],
    )
