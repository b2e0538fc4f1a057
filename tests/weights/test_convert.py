import pytest
import timm
import torch

from se_backbones import convert_timm_state_dict, load_state_dict_file


@pytest.fixture(scope='module')
def seresnet18():
    return timm.create_model('seresnet18', pretrained=False).state_dict()


def test_key_mapping(seresnet18):
    converted = convert_timm_state_dict('seresnet18', seresnet18)
    assert 'fc.weight' not in converted
    torch.testing.assert_close(converted['layer2.1.se_layer.conv2.conv.bias'],
                               seresnet18['layer2.1.se.fc2.bias'])
    torch.testing.assert_close(converted['layer2.0.downsample.1.running_var'],
                               seresnet18['layer2.0.downsample.1.running_var'])


def test_deep_and_legacy_stems():
    deep = convert_timm_state_dict(
        'seresnext26d_32x4d', timm.create_model('seresnext26d_32x4d').state_dict())
    assert {k.split('.')[1] for k in deep if k.startswith('stem.')} == {'0', '1', '3', '4', '6',
                                                                        '7'}
    legacy = timm.create_model('legacy_seresnet18').state_dict()
    converted = convert_timm_state_dict('legacy_seresnet18', legacy)
    torch.testing.assert_close(converted['bn1.weight'], legacy['layer0.bn1.weight'])
    assert 'layer1.0.se_layer.conv1.conv.weight' in converted


def test_with_classifier(seresnet18):
    converted = convert_timm_state_dict('seresnet18', seresnet18, with_classifier=True)
    assert converted['head.fc.weight'].shape == (1000, 512)
    assert 'backbone.layer4.1.se_layer.conv1.conv.weight' in converted
    without_fc = {k: v for k, v in seresnet18.items() if not k.startswith('fc.')}
    with pytest.raises(ValueError, match='with_classifier needs fc'):
        convert_timm_state_dict('seresnet18', without_fc, with_classifier=True)


def test_unmapped_keys_are_listed(seresnet18):
    bad = dict(seresnet18, **{'layer1.0.attn.weight': torch.zeros(1), 'head.x': torch.zeros(1)})
    with pytest.raises(ValueError, match=r'2 timm keys have no mapping: layer1\.0\.attn\.weight, '
                                         r'head\.x'):
        convert_timm_state_dict('seresnet18', bad)


def test_missing_and_mis_shaped_keys_are_listed(seresnet18):
    bad = {k: v for k, v in seresnet18.items() if 'layer4.1.se.' not in k}
    bad['conv1.weight'] = torch.zeros(64, 3, 3, 3)
    with pytest.raises(ValueError, match=r'4 missing keys: layer4\.1\.se_layer\.conv1\.conv\.'
                                         r'weight.*1 shape mismatches.*conv1\.weight '
                                         r'\(64, 3, 3, 3\) vs \(64, 3, 7, 7\)'):
        convert_timm_state_dict('seresnet18', bad)


def test_weights_of_another_architecture_do_not_fit(seresnet18):
    with pytest.raises(ValueError, match='does not fit the architecture: .*missing keys'):
        convert_timm_state_dict('seresnet34', seresnet18)


@pytest.mark.parametrize('suffix', ['.pth', '.bin', '.safetensors'])
def test_load_state_dict_file(tmp_path, seresnet18, suffix):
    path = str(tmp_path / f'w{suffix}')
    if suffix == '.safetensors':
        from safetensors.torch import save_file
        save_file(seresnet18, path)
    else:
        torch.save({'state_dict': {f'module.{k}': v for k, v in seresnet18.items()}}, path)
    loaded = load_state_dict_file(path)
    assert loaded.keys() == seresnet18.keys()
    torch.testing.assert_close(loaded['conv1.weight'], seresnet18['conv1.weight'])


def test_load_state_dict_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_state_dict_file(str(tmp_path / 'nope.pth'))
    torch.save([1, 2], str(tmp_path / 'list.pth'))
    with pytest.raises(ValueError, match='not a state dict'):
        load_state_dict_file(str(tmp_path / 'list.pth'))
