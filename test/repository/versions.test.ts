import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareReleases, compareVersions, maxVersion, parseVersion, releaseOf, sameRelease } from '../../src/repository/versions.ts';

describe('versions', () => {
  const ordered = ['9.9', '9.9.1', '9.22', '9.23', '9.23.0.1', '9.30.5407.1', '9.100', '10.0'];
  for (let i = 0; i + 1 < ordered.length; i++) {
    const a = ordered[i] as string;
    const b = ordered[i + 1] as string;
    it(`${a} < ${b}`, () => {
      assert.ok(compareVersions(a, b) < 0);
      assert.ok(compareVersions(b, a) > 0);
    });
  }

  it('sorts numerically, not as text', () => {
    const shuffled = ['9.100', '9.23', '9.9', '9.22'];
    assert.deepEqual([...shuffled].sort(compareVersions), ['9.9', '9.22', '9.23', '9.100']);
  });

  for (const [a, b] of [['9.30', '9.30.0.0'], ['9.30.0', '9.30'], ['09.030', '9.30'], [' 9.30 ', '9.30']] as const) {
    it(`${a} == ${b}`, () => assert.equal(compareVersions(a, b), 0));
  }

  it('parses parts', () => {
    assert.deepEqual(parseVersion('9.30.5407.1'), [9, 30, 5407, 1]);
    assert.deepEqual(parseVersion('9'), [9]);
  });

  for (const bad of ['', '9.', '.9', '9..1', '9.x', 'v9.30', '9.30-beta', '9,30', '-1']) {
    it(`rejects "${bad}"`, () => {
      assert.throws(() => parseVersion(bad), /invalid version/);
      assert.throws(() => compareVersions(bad, '9.30'), /invalid version/);
    });
  }

  it('maxVersion', () => {
    assert.equal(maxVersion(['9.9', '9.100', '9.23']), '9.100');
    assert.equal(maxVersion([]), undefined);
  });
});

describe('versions as releases (an installer names major.minor, an installed agent reports its build)', () => {
  it('releaseOf keeps major.minor', () => {
    assert.equal(releaseOf('9.30.5407.1'), '9.30');
    assert.equal(releaseOf('9.30.0.0'), '9.30');
    assert.equal(releaseOf('10'), '10.0');
  });

  for (const [installed, installer] of [['9.30.5407.1', '9.30.0.0'], ['9.30', '9.30.0.0'], ['9.30.0.0', '9.30.0.0'], ['9.30.5407.1', '9.30.5400.0']] as const) {
    it(`installed ${installed} is installer ${installer}'s release`, () => {
      assert.ok(sameRelease(installed, installer));
      assert.equal(compareReleases(installed, installer), 0);
    });
  }

  for (const [installed, installer] of [['9.29.5407.1', '9.30.0.0'], ['9.3.5407.1', '9.30.0.0'], ['8.30.1.1', '9.30.0.0']] as const) {
    it(`installed ${installed} is older than ${installer}`, () => {
      assert.ok(!sameRelease(installed, installer));
      assert.ok(compareReleases(installed, installer) < 0);
    });
  }

  it('the newest installer is unchanged: releases first, then the rest of the file version', () => {
    const files = ['9.30.0.0', '9.29.9.0', '9.30.1.0'];
    assert.deepEqual([...files].sort((a, b) => compareReleases(b, a) || compareVersions(b, a)), ['9.30.1.0', '9.30.0.0', '9.29.9.0']);
  });
});
