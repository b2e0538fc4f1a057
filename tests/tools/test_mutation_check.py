"""tools/mutation_check.py's list stays in step with the code: every mutation's old text is in
its file exactly once (fast: no mutation is run, no pytest inside pytest)."""
import os
import subprocess
import sys

from tools.mutation_check import MUTATIONS, ROOT, main, problems

AREAS = ('layers/scale_add_relu.py', 'layers/se_layer.py', 'layers/squeeze_gate.py', 'checks.py',
         'weights/convert.py', 'weights/files.py', 'engine/hooks.py', 'backbones/seresnet.py',
         'backbones/se_blocks.py', 'weights/init.py')


def test_every_old_text_is_found_exactly_once():
    assert problems() == []
    for m in MUTATIONS:
        with open(os.path.join(ROOT, m.file), encoding='utf-8') as f:
            assert f.read().count(m.old) == 1, m.id
        assert m.old != m.new and m.tests and m.breaks, m.id


def test_the_list_covers_the_critical_code_with_distinct_ids():
    assert len(MUTATIONS) >= 15
    assert len({m.id for m in MUTATIONS}) == len(MUTATIONS)
    assert {area for area in AREAS for m in MUTATIONS if m.file.endswith(area)} == set(AREAS)
    for m in MUTATIONS:  # the tests named are in the copy: files under tests/
        paths = [t.split('::')[0] for t in m.tests if t.startswith('tests/')]
        assert paths and all(os.path.isfile(os.path.join(ROOT, p)) for p in paths), m.id


def test_a_rotten_mutation_is_reported():
    rotten = MUTATIONS[0]._replace(old='this text is in no file')
    assert problems(mutations=[rotten, MUTATIONS[1], MUTATIONS[1]]) == [
        f'duplicate mutation id {MUTATIONS[1].id!r}',
        f'{rotten.id}: old text found 0 times in {rotten.file} (must be exactly once): '
        f"'this text is in no file'"]


def test_list_prints_every_mutation(capsys):
    assert main(['--list']) == []
    out = capsys.readouterr().out
    assert all(f'{m.id}\n  {m.file}: {m.breaks}\n' in out for m in MUTATIONS)
    assert f'{len(MUTATIONS)} mutations, each old text found exactly once' in out


def test_list_as_a_script():
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'mutation_check.py'),
                             '--list', '--only', 'sar-relu-mask'], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('sar-relu-mask\n') and '1 mutation, each' in result.stdout
