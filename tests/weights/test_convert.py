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
    assert converted['head.fc.weight'].shape == (1000, 512)
    assert 'backbone.layer4.1.se_layer.conv1.conv.weight' in converted
    without_fc = {k: v for k, v in seresnet18.items() if not k.startswith('fc.')}
    with pytest.raises(ValueError, match='with_classifier needs fc'):
        convert_timm_state_dict('seresnet18', without_fc, with_classifier=True)


def test_unmapped_keys_are_listed(seresnet18):
    bad = dict(seresnet18, **{'layer1.0.attn.weight': torch.zeros(1), 'head.x': torch.zeros(1)})
    with pytest.raises(
        ValueError,
        match=r'2 timm keys have no mapping: layer1\.0\.attn\.weight, '
        r'head\.x',
    ):
        convert_timm_state_dict('seresnet18', bad)


def test_missing_and_mis_shaped_keys_are_listed(seresnet18):
    bad = {k: v for k, v in seresnet18.items() if 'layer4.1.se.' not in k}
    bad['conv1.weight'] = torch.zeros(64, 3, 3, 3)
    with pytest.raises(
        ValueError,
        match=r'4 missing keys: layer4\.1\.se_layer\.conv1\.conv\.'
        r'weight.*1 shape mismatches.*conv1\.weight '
        r'\(64, 3, 3, 3\) vs \(64, 3, 7, 7\)',
    ):
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


def test_partial_conversion_returns_what_fits_and_logs_what_it_skips(seresnet18, monkeypatch):
    """strict=False: an unmapped key, missing keys and a mis-shaped one are left out and named
    in one warning; the rest converts and loads into the backbone."""
    import logging

    from se_backbones import SEResNet, backbone_cfg_from_timm

    logged = []
    monkeypatch.setattr(
        'mmengine.logging.print_log',
        lambda msg, **kwargs: logged.append((msg, kwargs.get('level'))),
    )
    bad = {k: v for k, v in seresnet18.items() if 'layer4.1.se.' not in k}
    bad['conv1.weight'] = torch.zeros(64, 3, 3, 3)
    bad['layer1.0.attn.weight'] = torch.zeros(1)
    converted = convert_timm_state_dict('seresnet18', bad, strict=False)
    assert len(logged) == 1 and logged[0][1] == logging.WARNING, logged
    message = logged[0][0]
    assert 'partial load (strict=False) of seresnet18, skipped: ' in message
    assert '1 timm keys have no mapping: layer1.0.attn.weight' in message
    assert '4 missing keys: layer4.1.se_layer.conv1.conv.weight' in message
    assert 'conv1.weight (64, 3, 3, 3) vs (64, 3, 7, 7)' in message
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


@pytest.mark.parametrize('digest', ['xyz', 'abc1234', '0' * 65, 'g' * 64, 12345678])
def test_a_malformed_sha256_is_refused_before_reading(tmp_path, digest, seresnet18):
    """Not 8 to 64 hex digits (letters, too short: 7 digits would match by chance too
    often, too long); even a real prefix of the file's digest if it is that short."""
    path = str(tmp_path / 'w.pth')
    torch.save(seresnet18, path)
    with pytest.raises(ValueError, match=r'sha256 must be 8 to 64 hex digits, got '):
        load_state_dict_file(path, sha256=digest)


def test_a_too_short_prefix_of_the_right_digest_is_refused(tmp_path, seresnet18):
    import hashlib

    path = str(tmp_path / 'w.pth')
    torch.save(seresnet18, path)
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    with pytest.raises(ValueError, match=r'sha256 must be 8 to 64 hex digits'):
        load_state_dict_file(path, sha256=digest[:7])
    assert load_state_dict_file(path, sha256=digest[:8]).keys() == seresnet18.keys()
    assert load_state_dict_file(path, sha256=digest.upper()).keys() == seresnet18.keys()


@pytest.mark.parametrize('wrapped', [False, True])
@pytest.mark.parametrize('legacy', [False, True])
def test_model_wrapped_and_legacy_pth_files_load(tmp_path, seresnet18, wrapped, legacy):
    """torchvision/DeiT-style {'model': state_dict} files, and files of torch's legacy
    (pre-1.6, non-zip) format, which have no CRC-32 to check."""
    import zipfile

    from se_backbones.weights import load_state_dict_file as load

    path = str(tmp_path / 'w.pth')
    torch.save(
        {'model': seresnet18} if wrapped else seresnet18,
        path,
        _use_new_zipfile_serialization=not legacy,
    )
    assert zipfile.is_zipfile(path) != legacy
    loaded = load(path)
    assert loaded.keys() == seresnet18.keys()
    for key, value in seresnet18.items():
        assert torch.equal(loaded[key], value), key
