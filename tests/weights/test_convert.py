import logging

import pytest
import timm
import torch

from se_backbones import convert_timm_state_dict
from se_backbones.weights.convert import listing


@pytest.fixture(scope='module')
def seresnet18():
    return timm.create_model('seresnet18', pretrained=False).state_dict()


def test_key_mapping(seresnet18):
    converted = convert_timm_state_dict('seresnet18', seresnet18)
    assert 'fc.weight' not in converted
    torch.testing.assert_close(
        converted['layer2.1.se_layer.conv2.conv.bias'], seresnet18['layer2.1.se.fc2.bias']
    )
    torch.testing.assert_close(
        converted['layer2.0.downsample.1.running_var'],
        seresnet18['layer2.0.downsample.1.running_var'],
    )


def test_deep_and_legacy_stems():
    deep = convert_timm_state_dict(
        'seresnext26d_32x4d', timm.create_model('seresnext26d_32x4d').state_dict()
    )
    assert {k.split('.')[1] for k in deep if k.startswith('stem.')} == {
        '0',
        '1',
        '3',
        '4',
        '6',
        '7',
    }
    legacy = timm.create_model('legacy_seresnet18').state_dict()
    converted = convert_timm_state_dict('legacy_seresnet18', legacy)
    torch.testing.assert_close(converted['bn1.weight'], legacy['layer0.bn1.weight'])
    assert 'layer1.0.se_layer.conv1.conv.weight' in converted


def test_with_classifier(seresnet18):
    converted = convert_timm_state_dict('seresnet18', seresnet18, with_classifier=True)
    assert converted['head.fc.weight'] is seresnet18['fc.weight']
    assert converted['head.fc.bias'] is seresnet18['fc.bias']
    backbone = convert_timm_state_dict('seresnet18', seresnet18)
    assert set(converted) == {f'backbone.{k}' for k in backbone} | {
        'head.fc.weight',
        'head.fc.bias',
    }
    legacy = timm.create_model('legacy_seresnet18', num_classes=3).state_dict()
    converted = convert_timm_state_dict('legacy_seresnet18', legacy, with_classifier=True)
    assert converted['head.fc.bias'] is legacy['last_linear.bias']


@pytest.mark.parametrize(
    'drop, found',
    [(('fc.weight', 'fc.bias'), 'none'), (('fc.bias',), 'head.fc.weight')],
)
def test_with_classifier_needs_its_weight_and_bias(seresnet18, drop, found):
    without = {k: v for k, v in seresnet18.items() if k not in drop}
    assert (
        convert_timm_state_dict('seresnet18', without).keys()
        == convert_timm_state_dict('seresnet18', seresnet18).keys()
    )  # the backbone alone converts
    with pytest.raises(ValueError) as error:
        convert_timm_state_dict('seresnet18', without, with_classifier=True)
    assert str(error.value) == (
        f'seresnet18: with_classifier needs fc (or last_linear) weight and bias, found {found}'
    )


def test_unmapped_keys_are_listed(seresnet18):
    bad = dict(seresnet18, **{'layer1.0.attn.weight': torch.zeros(1), 'head.x': torch.zeros(1)})
    with pytest.raises(ValueError) as error:
        convert_timm_state_dict('seresnet18', bad)
    assert str(error.value) == (
        'seresnet18: 2 timm keys have no mapping: layer1.0.attn.weight, head.x'
    )


def test_a_file_that_is_not_timm_s_says_how_to_load_it(seresnet18):
    """Ours (already converted) or a whole model's (an MMEngine checkpoint, keys under
    ``backbone.``) given as a timm file: the refusal names MMEngine's Pretrained."""
    ours = convert_timm_state_dict('seresnet18', seresnet18)
    with pytest.raises(ValueError) as error:
        convert_timm_state_dict('seresnet18', dict(ours, **{'head.x': torch.zeros(1)}))
    assert str(error.value) == (
        'seresnet18: 33 timm keys have no mapping: layer1.0.se_layer.conv1.conv.weight, '
        'layer1.0.se_layer.conv1.conv.bias, layer1.0.se_layer.conv2.conv.weight, '
        'layer1.0.se_layer.conv2.conv.bias, layer1.1.se_layer.conv1.conv.weight, '
        'layer1.1.se_layer.conv1.conv.bias, layer1.1.se_layer.conv2.conv.weight, '
        "layer1.1.se_layer.conv2.conv.bias, ... (+25 more) (se_backbones' own keys: load the "
        "file with init_cfg=dict(type='Pretrained', checkpoint=...))"
    )
    model = {f'backbone.{k}': v for k, v in ours.items()}
    with pytest.raises(ValueError) as error:
        convert_timm_state_dict('seresnet18', {'neck.conv.weight': torch.zeros(1), **model})
    assert str(error.value).endswith(
        " (a whole model's keys, under 'backbone.': load the file with "
        "init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.'))"
    )


def test_missing_unexpected_and_mis_shaped_keys_are_listed(seresnet18):
    bad = {k: v for k, v in seresnet18.items() if 'layer4.1.se.' not in k}
    bad['conv1.weight'] = torch.zeros(64, 3, 3, 3)
    bad['layer5.0.conv1.weight'] = torch.zeros(1)  # mapped by the block rule, not in the model
    with pytest.raises(ValueError) as error:
        convert_timm_state_dict('seresnet18', bad)
    assert str(error.value) == (
        'seresnet18: the converted state dict does not fit the architecture: '
        '4 missing keys: layer4.1.se_layer.conv1.conv.weight, '
        'layer4.1.se_layer.conv1.conv.bias, layer4.1.se_layer.conv2.conv.weight, '
        'layer4.1.se_layer.conv2.conv.bias; 1 unexpected keys: layer5.0.conv1.weight; '
        '1 shape mismatches (checkpoint vs model): conv1.weight (64, 3, 3, 3) vs (64, 3, 7, 7)'
    )


def test_weights_of_another_architecture_do_not_fit(seresnet18):
    with pytest.raises(ValueError, match='does not fit the architecture: .*missing keys'):
        convert_timm_state_dict('seresnet34', seresnet18)


@pytest.mark.parametrize(
    'items, limit, text',
    [
        ([], 8, ''),
        (['a', 'b'], 8, 'a, b'),
        (list('abcdefgh'), 8, 'a, b, c, d, e, f, g, h'),
        (list('abcdefghi'), 8, 'a, b, c, d, e, f, g, h, ... (+1 more)'),
        (iter('abcd'), 2, 'a, b, ... (+2 more)'),
    ],
)
def test_listing_names_at_most_limit_items(items, limit, text):
    assert listing(items, limit) == text
    if limit == 8:  # the default
        assert listing(items) == text


@pytest.mark.parametrize(
    'unmapped, missing, expected',
    [
        (True, False, '1 timm keys have no mapping: layer1.0.attn.weight'),
        (
            False,
            True,
            'seresnet18: the converted state dict does not fit the architecture: '
            '1 missing keys: layer4.1.bn2.bias',
        ),
    ],
    ids=['unmapped-only', 'missing-only'],
)
def test_a_partial_conversion_with_one_kind_of_problem_warns_once(
    seresnet18, mmlogs, unmapped, missing, expected
):
    bad = dict(seresnet18)
    if unmapped:
        bad['layer1.0.attn.weight'] = torch.zeros(1)
    if missing:
        del bad['layer4.1.bn2.bias']
    converted = convert_timm_state_dict('seresnet18', bad, strict=False)
    assert mmlogs == [
        (logging.WARNING, f'partial load (strict=False) of seresnet18, skipped: {expected}')
    ]
    assert ('layer4.1.bn2.bias' in converted) != missing


def test_a_conversion_that_fits_logs_nothing(seresnet18, mmlogs):
    assert len(convert_timm_state_dict('seresnet18', seresnet18, strict=False)) == len(
        convert_timm_state_dict('seresnet18', seresnet18)
    )
    assert mmlogs == []


def test_partial_conversion_returns_what_fits_and_logs_what_it_skips(seresnet18, mmlogs):
    """strict=False: an unmapped key, missing keys and a mis-shaped one are left out and named
    in one warning; the rest converts and loads into the backbone."""
    from se_backbones import SEResNet, backbone_cfg_from_timm

    bad = {k: v for k, v in seresnet18.items() if 'layer4.1.se.' not in k}
    bad['conv1.weight'] = torch.zeros(64, 3, 3, 3)
    bad['layer1.0.attn.weight'] = torch.zeros(1)
    converted = convert_timm_state_dict('seresnet18', bad, strict=False)
    assert mmlogs == [
        (
            logging.WARNING,
            'partial load (strict=False) of seresnet18, skipped: 1 timm keys have no mapping: '
            'layer1.0.attn.weight; seresnet18: the converted state dict does not fit the '
            'architecture: 4 missing keys: layer4.1.se_layer.conv1.conv.weight, '
            'layer4.1.se_layer.conv1.conv.bias, layer4.1.se_layer.conv2.conv.weight, '
            'layer4.1.se_layer.conv2.conv.bias; 1 shape mismatches (checkpoint vs model): '
            'conv1.weight (64, 3, 3, 3) vs (64, 3, 7, 7)',
        )
    ]
    # what is returned: every backbone key but the 5 skipped, holding timm's tensors
    backbone = SEResNet(
        **{k: v for k, v in backbone_cfg_from_timm('seresnet18').items() if k != 'type'}
    )
    skipped = {'conv1.weight'} | {
        f'layer4.1.se_layer.conv{i}.conv.{p}' for i in (1, 2) for p in ('weight', 'bias')
    }
    assert set(converted) == set(backbone.state_dict()) - skipped
    assert converted['layer2.1.se_layer.conv2.conv.bias'] is seresnet18['layer2.1.se.fc2.bias']
    assert converted['layer3.0.downsample.0.weight'] is seresnet18['layer3.0.downsample.0.weight']
    result = backbone.load_state_dict(converted, strict=False)
    assert sorted(result.missing_keys) == sorted(skipped) and not result.unexpected_keys


def test_check_state_dict_is_strict_by_default():
    from se_backbones.weights.convert import check_state_dict

    expected = {'w': torch.zeros(2), 'b': torch.zeros(1)}
    with pytest.raises(ValueError) as error:
        check_state_dict(expected, {'w': torch.ones(3), 'x': torch.ones(1)}, 'Mine')
    assert str(error.value) == (
        'Mine: 1 missing keys: b; 1 unexpected keys: x; '
        '1 shape mismatches (checkpoint vs model): w (3,) vs (2,)'
    )
    loadable, report = check_state_dict(expected, {'w': torch.ones(2)}, 'Mine', strict=False)
    assert list(loadable) == ['w'] and report == 'Mine: 1 missing keys: b'
    assert check_state_dict(expected, dict(expected), 'Mine')[1] is None
