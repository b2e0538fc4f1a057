from tools.check_timm import main


def test_prints_the_readme_table(capsys):
    main(['seresnet18', 'legacy_seresnext26_32x4d', '--size', '64'])
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == '| timm model | our backbone config | max rel. error |'
    assert rows[2].startswith('| seresnet18 | SEResNet(depth=18) | ')
    assert rows[3].startswith("| legacy_seresnext26_32x4d | SEResNeXt(depth=26, groups=32, ")
    assert all(float(row.rsplit('|', 2)[1]) < 1e-5 for row in rows[2:])
